using Cleave.Models.Onnx;
using Cleave.Models.Splitting;

namespace Cleave.Evaluation.Classification;

/// <summary>The halves of a split folder for evaluation against the unsplit model it was cut from.</summary>
internal static class SplitFolder
{
    /// <summary>Head, tail and the cut's float32 bytes per sample; checks that the folder was cut from <paramref name="model"/> at <paramref name="cut"/>.</summary>
    public static (OnnxModel Head, OnnxModel Tail, double BytesFp32) Load(string directory, OnnxModel model, string cut)
    {
        var manifest = SplitManifest.Load(Path.Combine(directory, "split.json"));
        if (!string.Equals(manifest.SourceSha256, model.Sha256, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"'{directory}' was cut from another model (source sha256 {manifest.SourceSha256[..Math.Min(12, manifest.SourceSha256.Length)]}..., this model {model.Sha256[..12]}...)");
        if (manifest.Cut.Count != 1 || manifest.Cut[0].Name != cut || manifest.TailInputs.Count != 1)
            throw new NotSupportedException($"'{directory}': only folders with one cut tensor and single-input tails are evaluated");
        return (OnnxModel.Load(Path.Combine(directory, manifest.HeadFile)), OnnxModel.Load(Path.Combine(directory, manifest.TailFile)), manifest.Cut[0].BytesFp32 ?? 0);
    }
}
