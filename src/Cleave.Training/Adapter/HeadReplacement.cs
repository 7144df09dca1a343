using Cleave.Codecs.IO;
using Cleave.Models.Onnx;
using Cleave.Models.Splitting;
using Onnx;

namespace Cleave.Training.Adapter;

/// <summary>
/// A split folder whose head is replaced (a fine-tuned head) while tail.onnx is copied byte for byte; split.json gets
/// the new head hash (hence a new manifest hash). Files are written all or none (AtomicFile.WriteAll), split.json last.
/// </summary>
public static class HeadReplacement
{
    public static SplitManifest Write(string splitDirectory, string outputDirectory, ModelProto head)
    {
        ArgumentNullException.ThrowIfNull(head);
        var manifest = SplitManifest.Load(Path.Combine(splitDirectory, "split.json"));
        var headModel = OnnxModel.FromProto(head);
        byte[] tail = File.ReadAllBytes(Path.Combine(splitDirectory, manifest.TailFile));
        var updated = new SplitManifest
        {
            FormatVersion = manifest.FormatVersion, SourceModel = manifest.SourceModel, SourceSha256 = manifest.SourceSha256,
            Cut = manifest.Cut, HeadInputs = manifest.HeadInputs, TailInputs = manifest.TailInputs, SideInputs = manifest.SideInputs,
            TailStateInputs = manifest.TailStateInputs, HeadStateOutputs = manifest.HeadStateOutputs, Outputs = manifest.Outputs,
            Opsets = manifest.Opsets, HeadFile = manifest.HeadFile, TailFile = manifest.TailFile,
            HeadSha256 = headModel.Sha256, TailSha256 = OnnxModel.HashHex(tail),
        };
        Directory.CreateDirectory(outputDirectory);
        // All or none: a full disk while writing the tail must not leave a new head beside an old (or no) tail.
        AtomicFile.WriteAll([
            (Path.Combine(outputDirectory, updated.HeadFile), headModel.ToBytes()),
            (Path.Combine(outputDirectory, updated.TailFile), tail),
            (Path.Combine(outputDirectory, "split.json"), System.Text.Encoding.UTF8.GetBytes(updated.ToJson() + "\n")),
        ]);
        return updated;
    }
}
