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

    /// <summary>The task tails on the cut, the default (tail.onnx) first (<see cref="SplitManifest.EffectiveTasks"/>).</summary>
    public IReadOnlyList<SplitTask> Tasks => Manifest.EffectiveTasks();

    /// <summary>
    /// The bytes of a task's ONNX model, checked against the SHA-256 the manifest records for it: a tail replaced
    /// behind the manifest's back is refused instead of answering under the task's name.
    /// </summary>
    public byte[] ReadTaskModel(SplitTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        byte[] bytes = File.ReadAllBytes(System.IO.Path.Combine(Path, task.File));
        if (task.Sha256.Length > 0 && !string.Equals(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), task.Sha256, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"'{task.File}' (task '{task.Name}') does not match the SHA-256 in split.json");
        return bytes;
    }

    /// <summary>A task's class names (its labels file, one per line), or null when it has none.</summary>
    public IReadOnlyList<string>? TaskLabels(SplitTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        return task.Labels is null ? null : File.ReadAllLines(System.IO.Path.Combine(Path, task.Labels));
    }

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
