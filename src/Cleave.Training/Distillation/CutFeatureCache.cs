using System.Globalization;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Profiling;
using Cleave.Training.Data;

namespace Cleave.Training.Distillation;

/// <summary>
/// What a frozen head gives for a set of images, computed once with ONNX Runtime so that training runs only what
/// comes after the head: the cut tensor of every sample, the frozen full model's output for it (the teacher, a
/// probability vector) and the label's output index. With <c>flips</c> every image also appears mirrored, and with
/// <see cref="RandomViews"/> as that many random crops too (more samples, all computed by the real head and teacher:
/// augmentation that survives caching; mixed views take their partner from the same images). With <c>cleanFeatures</c> it also keeps
/// the head's cut tensor on the unshifted image (the target of a feature-matching adapter), and with <c>shiftDraws</c> K
/// above 1 every sample appears K times, each with its own draw of the shift's sensor noise (sample index
/// = original index · K + draw), so a trainer can show each image with fresh noise in every epoch without running the
/// head inside its time budget.
/// </summary>
public sealed class CutFeatureCache
{
    private CutFeatureCache(float[] features, long[] sampleShape, float[] teacher, int outputs, int[] labels, string[] names, float[] cleanFeatures, int draws)
    {
        Features = features;
        CleanFeatures = cleanFeatures;
        Draws = draws;
        SampleShape = sampleShape;
        Teacher = teacher;
        Outputs = outputs;
        Labels = labels;
        Names = names;
    }

    /// <summary>Cut tensors, sample after sample.</summary>
    public float[] Features { get; }

    /// <summary>The head's cut tensors on the unshifted images, sample after sample (empty unless asked for).</summary>
    public float[] CleanFeatures { get; }

    /// <summary>How many noise draws of the shift each image has (consecutive samples); 1 without draws.</summary>
    public int Draws { get; }

    /// <summary>One sample's cut shape without the batch dimension.</summary>
    public long[] SampleShape { get; }

    /// <summary>Teacher probabilities, <see cref="Outputs"/> per sample.</summary>
    public float[] Teacher { get; }

    public int Outputs { get; }

    /// <summary>Output index of each sample's label.</summary>
    public int[] Labels { get; }

    /// <summary>File name of each sample (with "~flip" for mirrored copies).</summary>
    public string[] Names { get; }

    public int Count => Labels.Length;

    public long SampleElements => SampleShape.Aggregate(1L, (a, b) => a * b);

    /// <summary>
    /// Runs <paramref name="head"/> (producing <paramref name="cutTensor"/>) and <paramref name="fullModel"/> (the teacher)
    /// over the images. <paramref name="featureShift"/> changes the images the head sees (a different camera) while the
    /// teacher keeps seeing the originals, which is what a distilled adapter learns to undo.
    /// </summary>
    public static CutFeatureCache Build(OnnxModel head, string cutTensor, OnnxModel? fullModel, IReadOnlyList<LabelledImage> images,
        PreprocessingSpec spec, bool flips = false, CameraShift? featureShift = null, Action<int, string>? progress = null, RandomViews? views = null,
        bool cleanFeatures = false, int shiftDraws = 1)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(spec);
        if (images.Count == 0) throw new ArgumentException("no images to cache features for");
        ArgumentOutOfRangeException.ThrowIfLessThan(shiftDraws, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shiftDraws, MaxShiftDraws);
        if (shiftDraws > 1 && featureShift is null) throw new ArgumentException("noise draws need a camera shift");
        using var headRunner = new OrtModelRunner(head.ToBytes());
        using var fullRunner = fullModel is null ? null : new OrtModelRunner(fullModel.ToBytes());
        string input = headRunner.InputNames.Contains(spec.InputName) ? spec.InputName : headRunner.InputNames[0];
        long[] inputShape = spec.Layout == "NCHW" ? [1, spec.Channels, spec.Height, spec.Width] : [1, spec.Height, spec.Width, spec.Channels];
        int plainCopies = flips ? 2 : 1;
        int copies = plainCopies + (views?.Validated().Count ?? 0);
        int capacity = images.Count * copies * shiftDraws;
        var features = new List<float[]>(capacity);
        var clean = new List<float[]>(cleanFeatures ? capacity : 0);
        var teacher = new List<float[]>(capacity);
        var labels = new List<int>(capacity);
        var names = new List<string>(capacity);
        long[]? sampleShape = null;
        float[] Cut(float[] pixels, string name)
        {
            var feature = headRunner.Run(new Dictionary<string, HostTensor> { [input] = new(OnnxElementType.Float, inputShape, pixels) }, [cutTensor])[cutTensor];
            var shape = feature.Shape.Skip(1).ToArray();
            if (feature.Shape[0] != 1) throw new InvalidDataException($"the head gave a batch of {feature.Shape[0]} for one image");
            if (sampleShape is null) sampleShape = shape;
            else if (!sampleShape.SequenceEqual(shape))
                throw new InvalidDataException($"'{name}' gave a cut of shape [{string.Join(",", shape)}], earlier images [{string.Join(",", sampleShape)}]");
            return (float[])feature.Data;
        }
        if (views is { Mix: not ViewMix.None } && images.Count < 2) throw new ArgumentException($"mixed views need at least 2 images, got {images.Count}");
        for (int i = 0; i < images.Count; i++)
        {
            string name = Path.GetFileName(images[i].Path);
            progress?.Invoke(i, name);
            var original = RgbImage.Load(images[i].Path);
            // A mixed view's partner is another image of this same set (decoded when needed: the head and teacher runs cost more).
            RgbImage View(int k) => views!.Mix == ViewMix.None ? views.Make(original, name, k)
                : views.Make(original, name, k, RgbImage.Load(images[views.PartnerOf(name, k, i, images.Count)].Path));
            for (int copy = 0; copy < copies; copy++)
            {
                string copyName = copy == 0 ? name : copy < plainCopies ? name + "~flip" : $"{name}~view{copy - plainCopies}";
                var unshifted = copy == 0 ? original : copy < plainCopies ? Mirror(original) : View(copy - plainCopies);
                // The clean image's pixels, cut tensor and teacher output are the same for every noise draw: computed once.
                var cleanPixels = featureShift is null || cleanFeatures || fullRunner is not null ? ImagePreprocessor.Process(unshifted, spec) : null;
                float[]? cleanCut = cleanFeatures ? Cut(cleanPixels!, copyName) : null;
                float[] scores = [];
                if (fullRunner is not null)
                {
                    string output = fullRunner.OutputNames[0];
                    scores = (float[])fullRunner.Run(new Dictionary<string, HostTensor> { [input] = new(OnnxElementType.Float, inputShape, cleanPixels!) }, [output])[output].Data;
                    if (teacher.Count > 0 && scores.Length != teacher[0].Length) throw new InvalidDataException("the teacher's output size changed between images");
                    scores = AsProbabilities(scores);
                }
                int label = ImageNetSample.OutputIndex(images[i].ClassIndex, scores.Length == 0 ? 1000 : scores.Length);
                for (int draw = 0; draw < shiftDraws; draw++)
                {
                    string sampleName = DrawName(copyName, draw);
                    var pixels = featureShift is null ? cleanPixels!
                        : ImagePreprocessor.Process(featureShift.Apply(unshifted, sampleName), spec);
                    features.Add(Cut(pixels, sampleName));
                    if (cleanCut is not null) clean.Add(cleanCut);
                    teacher.Add(scores);
                    labels.Add(label);
                    names.Add(sampleName);
                }
            }
        }
        int outputs = teacher[0].Length;
        return new CutFeatureCache([.. features.SelectMany(f => f)], sampleShape!, [.. teacher.SelectMany(t => t)], outputs, [.. labels], [.. names],
            [.. clean.SelectMany(f => f)], shiftDraws);
    }

    /// <summary>Most noise draws per image: each is a full copy of the cut tensors.</summary>
    public const int MaxShiftDraws = 64;

    /// <summary>
    /// The name the shift's noise is drawn from: the file name for draw 0 (so draw 0 is exactly what <c>cleave eval
    /// --shift</c> shows for that image) and the name with "~noiseK" for draw K.
    /// </summary>
    public static string DrawName(string name, int draw) => draw == 0 ? name : string.Create(CultureInfo.InvariantCulture, $"{name}~noise{draw}");

    /// <summary>Samples at <paramref name="indices"/> as a new cache (train/validation splits); each picked sample stands alone (one draw).</summary>
    public CutFeatureCache Subset(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        long n = SampleElements;
        var features = new float[checked(indices.Count * n)];
        var teacher = new float[indices.Count * Outputs];
        var clean = new float[CleanFeatures.Length == 0 ? 0 : features.Length];
        for (int k = 0; k < indices.Count; k++)
        {
            Array.Copy(Features, indices[k] * n, features, k * n, n);
            if (clean.Length > 0) Array.Copy(CleanFeatures, indices[k] * n, clean, k * n, n);
            Array.Copy(Teacher, (long)indices[k] * Outputs, teacher, (long)k * Outputs, Outputs);
        }
        return new CutFeatureCache(features, SampleShape, teacher, Outputs, [.. indices.Select(i => Labels[i])], [.. indices.Select(i => Names[i])],
            clean, 1);
    }

    private static RgbImage Mirror(RgbImage image)
    {
        int w = image.Width, h = image.Height;
        var pixels = new byte[image.Pixels.Length];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                Buffer.BlockCopy(image.Pixels, (y * w + x) * 3, pixels, (y * w + (w - 1 - x)) * 3, 3);
        return new RgbImage(w, h, pixels);
    }

    /// <summary>A model ending in Softmax gives probabilities already; raw scores are turned into them.</summary>
    private static float[] AsProbabilities(float[] scores)
    {
        double total = 0;
        bool probabilities = true;
        foreach (float s in scores)
        {
            if (!(s >= 0)) { probabilities = false; break; }
            total += s;
        }
        if (probabilities && Math.Abs(total - 1) < 1e-3) return scores;
        float max = scores.Max();
        var p = new float[scores.Length];
        double sum = 0;
        for (int i = 0; i < p.Length; i++) sum += p[i] = MathF.Exp(scores[i] - max);
        for (int i = 0; i < p.Length; i++) p[i] = (float)(p[i] / sum);
        return p;
    }
}
