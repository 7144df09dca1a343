using System.Security.Cryptography;
using Cleave.Codecs.IO;
using Cleave.Models.Gating;
using Cleave.Models.Onnx;
using Cleave.Models.Splitting;
using Cleave.Training.Export;
using Cleave.Training.Layers;
using Google.Protobuf;

namespace Cleave.Training.Gating;

/// <summary>Writes a gate as <c>gate.onnx</c> (reading the cut tensor, one score per configuration) and its <c>gate.json</c> into a split folder.</summary>
public static class GateExport
{
    public const string OutputName = "gate_logits";

    /// <summary>The gate as a stand-alone model whose input is named after the cut tensor.</summary>
    public static OnnxModel ToModel(ExportableLayer gate, string cutName, long[] cutShape) =>
        LayerExport.ToModel(gate, cutShape, inputName: cutName, outputName: OutputName);

    /// <summary>Writes gate.onnx and gate.json (atomically, the model first) and returns the manifest written.</summary>
    public static GateManifest Write(string splitDirectory, ExportableLayer gate, string cutName, long[] cutShape, IReadOnlyList<string> codecs,
        GateEvaluation calibration, string trained)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        var model = ToModel(gate, cutName, cutShape);
        byte[] bytes = model.Proto.ToByteArray();
        var report = ModelInspector.Inspect(new SplitAnalysis(model));
        var manifest = new GateManifest
        {
            Input = cutName, Output = OutputName, Codecs = [.. codecs], Threshold = calibration.Threshold,
            Parameters = report.Parameters, Macs = report.Macs, GateSha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
            Trained = trained, Calibration = calibration,
        };
        Directory.CreateDirectory(splitDirectory);
        AtomicFile.WriteAllBytes(Path.Combine(splitDirectory, manifest.GateFile), bytes);
        AtomicFile.WriteAllBytes(Path.Combine(splitDirectory, GateManifest.FileName), System.Text.Encoding.UTF8.GetBytes(manifest.ToJson() + "\n"));
        return manifest;
    }
}
