using Cleave.Evaluation.Datasets;
using Cleave.Models.Preprocessing;

namespace Cleave.Training.Data;

/// <summary>
/// Images from a folder, preprocessed as the model's recorded preprocessing says: labelled as <c>cleave eval</c>
/// reads folders (labels.csv, or wnid file names), or unlabelled (every image file; for distillation from a teacher).
/// Decoded images are cached as floats up to a memory budget, then decoded again on each use.
/// </summary>
public sealed class ImageFolderExamples : IExampleSet
{
    private static readonly HashSet<string> ImageExtensions = new(StringComparer.OrdinalIgnoreCase) { ".jpeg", ".jpg", ".png", ".bmp", ".webp", ".gif" };

    private readonly IReadOnlyList<string> _paths;
    private readonly int[] _labels;
    private readonly PreprocessingSpec _spec;
    private readonly float[]?[] _cache;
    private readonly int _cacheLimit;

    private ImageFolderExamples(IReadOnlyList<string> paths, int[] labels, int classCount, PreprocessingSpec spec, long cacheBytes)
    {
        _paths = paths;
        _labels = labels;
        ClassCount = classCount;
        _spec = spec;
        _cache = new float[]?[paths.Count];
        long each = (long)ImagePreprocessor.ElementCount(spec) * sizeof(float);
        _cacheLimit = (int)Math.Min(paths.Count, cacheBytes / Math.Max(1, each));
    }

    /// <summary>Labelled images (labels.csv or wnid names with <paramref name="wnidsFile"/>); <paramref name="classCount"/> is the model's output count.</summary>
    public static ImageFolderExamples Labelled(string folder, string? wnidsFile, PreprocessingSpec spec, int classCount, long cacheBytes = 1L << 30)
    {
        var images = ImageFolder.Load(folder, wnidsFile);
        return new ImageFolderExamples([.. images.Select(i => i.Path)], [.. images.Select(i => ImageNetSample.OutputIndex(i.ClassIndex, classCount))], classCount, spec, cacheBytes);
    }

    /// <summary>Every image file in the folder (sorted by name), without labels.</summary>
    public static ImageFolderExamples Unlabelled(string folder, PreprocessingSpec spec, long cacheBytes = 1L << 30)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"image folder '{folder}' does not exist");
        var paths = Directory.GetFiles(folder).Where(p => ImageExtensions.Contains(Path.GetExtension(p))).Order(StringComparer.Ordinal).ToList();
        if (paths.Count == 0) throw new ArgumentException($"no images in '{folder}' (looked for {string.Join(", ", ImageExtensions)})");
        return new ImageFolderExamples(paths, [.. paths.Select(_ => -1)], 0, spec, cacheBytes);
    }

    public int Count => _paths.Count;
    public long[] ExampleShape => [_spec.Channels, _spec.Height, _spec.Width];
    public int ClassCount { get; }
    public IReadOnlyList<string> Paths => _paths;

    public void Fill(int index, Span<float> destination)
    {
        if (_cache[index] is { } cached) { cached.CopyTo(destination); return; }
        var image = RgbImage.Load(_paths[index]);
        if (index < _cacheLimit)
        {
            var values = ImagePreprocessor.Process(image, _spec);
            _cache[index] = values;
            values.CopyTo(destination);
        }
        else ImagePreprocessor.Process(image, _spec, destination);
    }

    public int Label(int index) => _labels[index];
}
