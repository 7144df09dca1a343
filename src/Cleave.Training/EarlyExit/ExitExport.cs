using System.Security.Cryptography;
using Cleave.Codecs.IO;
using Cleave.Models.EarlyExit;
using Cleave.Models.Onnx;
using Cleave.Models.Splitting;
using Cleave.Training.Export;
using Cleave.Training.Layers;
using Google.Protobuf;

namespace Cleave.Training.EarlyExit;

/// <summary>Writes an exit head as <c>exit.onnx</c> (reading the cut tensor) and its <c>exit.json</c> into a split folder.</summary>
public static class ExitExport
{
    public const string OutputName = "exit_logits";

    /// <summary>The exit head as a stand-alone model whose input is named after the cut tensor.</summary>
    public static OnnxModel ToModel(ExportableLayer exit, string cutName, long[] cutShape) =>
        LayerExport.ToModel(exit, cutShape, inputName: cutName, outputName: OutputName);

    /// <summary>Writes exit.onnx and exit.json (atomically, the model first) and returns the manifest written.</summary>
    public static ExitManifest Write(string splitDirectory, ExportableLayer exit, string cutName, long[] cutShape, int classes, ExitCalibration calibration, string trained)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        var model = ToModel(exit, cutName, cutShape);
        byte[] bytes = model.Proto.ToByteArray();
        var report = ModelInspector.Inspect(new SplitAnalysis(model));
        var manifest = new ExitManifest
        {
            Input = cutName, Output = OutputName, Classes = classes, Threshold = calibration.Threshold,
            Parameters = report.Parameters, Macs = report.Macs, ExitSha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
            Trained = trained, Calibration = calibration,
        };
        Directory.CreateDirectory(splitDirectory);
        AtomicFile.WriteAllBytes(Path.Combine(splitDirectory, manifest.ExitFile), bytes);
        AtomicFile.WriteAllBytes(Path.Combine(splitDirectory, ExitManifest.FileName), System.Text.Encoding.UTF8.GetBytes(manifest.ToJson() + "\n"));
        return manifest;
    }
}
