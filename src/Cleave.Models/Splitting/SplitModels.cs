using Cleave.Models.Onnx;

namespace Cleave.Models.Splitting;

/// <summary>The two halves of a split and the manifest that describes them.</summary>
public sealed record SplitModels(OnnxModel Head, OnnxModel Tail, SplitManifest Manifest, CutPlan Plan)
{
    /// <summary>Writes <c>head.onnx</c>, <c>tail.onnx</c> and <c>split.json</c> into <paramref name="directory"/> (created if needed).</summary>
    public IReadOnlyList<string> Save(string directory)
    {
        Directory.CreateDirectory(directory);
        string head = Path.Combine(directory, Manifest.HeadFile);
        string tail = Path.Combine(directory, Manifest.TailFile);
        string manifest = Path.Combine(directory, "split.json");
        File.WriteAllBytes(head, Head.ToBytes());
        File.WriteAllBytes(tail, Tail.ToBytes());
        Manifest.Save(manifest);
        return [head, tail, manifest];
    }
}
