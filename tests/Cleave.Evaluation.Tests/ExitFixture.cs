using System.Security.Cryptography;
using Cleave.Models.EarlyExit;
using Cleave.Models.Onnx;
using Cleave.Models.Splitting;
using Google.Protobuf;
using Onnx;

namespace Cleave.Evaluation.Tests;

/// <summary>
/// An early exit written into a real split folder (exit.onnx + exit.json), as `cleave train exit` writes one: it pools
/// the cut tensor and scores class <c>favoured</c> by the mean over channels (times <c>gain</c>) plus <c>bias</c>, so
/// its confidence depends on the image the way a trained exit's does. Shared with the planning tests.
/// </summary>
internal static class ExitFixture
{
    public const string Output = "exit_logits";

    public static ExitManifest Write(string splitFolder, int classes, int favoured, float gain, float bias, double threshold, ExitCalibration? curve = null)
    {
        var manifest = SplitManifest.Load(Path.Combine(splitFolder, "split.json"));
        var cut = manifest.Cut[0];
        var shape = cut.Shape.Select(d => d.Value ?? 1).ToArray();
        long channels = shape[1];
        var builder = new OnnxGraphBuilder();
        var weights = new float[classes * channels];
        for (long c = 0; c < channels; c++) weights[favoured * channels + c] = gain / channels;
        var biases = new float[classes];
        biases[favoured] = bias;
        string pooled = builder.Emit("Flatten", "flat", [builder.Emit("GlobalAveragePool", "gap", [cut.Name])], OnnxGraphBuilder.Int("axis", 1));
        builder.AddNode("Gemm", [pooled, builder.AddFloats("w", weights, classes, channels), builder.AddFloats("b", biases, classes)], Output,
            OnnxGraphBuilder.Int("transB", 1));
        var graph = builder.Graph;
        graph.Name = "exit";
        graph.Input.Add(OnnxGraphBuilder.ValueInfo(cut.Name, OnnxElementType.Float, shape, "N"));
        graph.Output.Add(OnnxGraphBuilder.ValueInfo(Output, OnnxElementType.Float, [1, classes], "N"));
        var proto = new ModelProto { IrVersion = 8, Graph = graph };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 18 });
        byte[] bytes = proto.ToByteArray();
        File.WriteAllBytes(Path.Combine(splitFolder, "exit.onnx"), bytes);
        var exit = new ExitManifest
        {
            Input = cut.Name, Output = Output, Classes = classes, Threshold = threshold, Macs = classes * channels,
            ExitSha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)), Trained = "test fixture", Calibration = curve ?? new ExitCalibration(),
        };
        File.WriteAllText(Path.Combine(splitFolder, ExitManifest.FileName), exit.ToJson());
        return exit;
    }

    /// <summary>
    /// A curve from synthetic held-out samples with confidences (i + 0.5) / images and the full model right on all: the
    /// exit right where its confidence is above 0.5 and wrong below (or, with <paramref name="exitAlwaysWrong"/>, wrong on all).
    /// </summary>
    public static ExitCalibration Curve(int images, double maxLoss, bool exitAlwaysWrong = false)
    {
        var samples = Enumerable.Range(0, images).Select(i =>
        {
            float confidence = (i + 0.5f) / images;
            return new ExitSample(ExitTop1: confidence > 0.5f && !exitAlwaysWrong ? 1 : 2, Confidence: confidence, FullTop1: 1, Label: 1);
        }).ToList();
        return ExitCalibration.Compute(samples, maxLoss);
    }
}
