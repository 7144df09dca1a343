using Cleave.Models.Splitting;

namespace Cleave.Runtime;

/// <summary>
/// A folder written by <c>cleave split</c>: <c>split.json</c> with <c>head.onnx</c> and <c>tail.onnx</c> beside it.
/// Client and server both load it; the manifest hash is what they compare at connect time.
/// </summary>
public sealed class SplitDirectory
{
    private SplitDirectory(string path, SplitManifest manifest)
    {
        Path = path;
        Manifest = manifest;
        ManifestHash = manifest.ComputeHash();
    }

    public string Path { get; }
    public SplitManifest Manifest { get; }
    public string ManifestHash { get; }
    public string HeadPath => System.IO.Path.Combine(Path, Manifest.HeadFile);
    public string TailPath => System.IO.Path.Combine(Path, Manifest.TailFile);

    public static SplitDirectory Load(string path)
    {
        string manifestPath = System.IO.Path.Combine(path, "split.json");
        if (!File.Exists(manifestPath))
            throw new FileNotFoundException($"'{path}' is not a split folder: no split.json (write one with `cleave split`)", manifestPath);
        return new SplitDirectory(path, SplitManifest.Load(manifestPath));
    }

    /// <summary>
    /// One sample's shape of the (single) cut tensor, batch dimension set to 1, and whether that batch dimension is
    /// symbolic (the tail can then take many samples at once; a fixed batch of 1 cannot be batched).
    /// </summary>
    public (long[] Shape, bool Batchable) CutSampleShape()
    {
        var dims = Manifest.Cut[0].Shape;
        if (dims.Count == 0) throw new NotSupportedException($"the cut tensor '{Manifest.Cut[0].Name}' is a scalar");
        var shape = new long[dims.Count];
        for (int i = 1; i < dims.Count; i++)
            shape[i] = dims[i].Value ?? throw new NotSupportedException(
                $"the cut tensor '{Manifest.Cut[0].Name}' has a symbolic dimension {i} ({dims[i]}); only the batch dimension may be symbolic");
        shape[0] = 1;
        bool batchable = !dims[0].IsFixed;
        if (dims[0].IsFixed && dims[0].Value != 1)
            throw new NotSupportedException($"the cut tensor '{Manifest.Cut[0].Name}' has a fixed batch of {dims[0].Value}; expected 1 or symbolic");
        return (shape, batchable);
    }
}
