using System.Security.Cryptography;
using Cleave.Codecs;
using Cleave.Models.Gating;
using Cleave.Models.Onnx;
using Cleave.Runtime.Client;
using Cleave.Runtime.Serving;
using Google.Protobuf;
using Onnx;

namespace Cleave.Runtime.Tests;

/// <summary>The device's per-input gate against a real server on a loopback port: each frame is coded with the setting the gate chose, and the server answers it.</summary>
public sealed class DeviceGateTests : IDisposable
{
    private static readonly string[] Ladder = ["rans-ifc:bits=2,levels=4,clip=3", "rans-ifc:bits=3,levels=6,clip=3", "quant:bits=8,entropy=rans"];
    private const string Output = "gate_logits";
    private readonly string _folder = Directory.CreateTempSubdirectory("cleave-gate-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>The MobileNetV2 split plus a gate whose scores are <paramref name="biases"/> for every input (pooled cut times zero weights).</summary>
    private SplitDirectory SplitWithGate(float[] biases, double threshold)
    {
        foreach (string file in new[] { "split.json", "head.onnx", "tail.onnx" })
            File.Copy(Path.Combine(MobileNetSplit.SplitPath, file), Path.Combine(_folder, file), overwrite: true);
        var split = SplitDirectory.Load(_folder);
        var (shape, _) = split.CutSampleShape();
        var builder = new OnnxGraphBuilder();
        string pooled = builder.Emit("Flatten", "flat", [builder.Emit("GlobalAveragePool", "gap", [MobileNetSplit.Cut])], OnnxGraphBuilder.Int("axis", 1));
        builder.AddNode("Gemm", [pooled, builder.AddFloats("w", new float[biases.Length * shape[1]], biases.Length, shape[1]), builder.AddFloats("b", biases, biases.Length)],
            Output, OnnxGraphBuilder.Int("transB", 1));
        var graph = builder.Graph;
        graph.Name = "gate";
        graph.Input.Add(OnnxGraphBuilder.ValueInfo(MobileNetSplit.Cut, OnnxElementType.Float, shape, "N"));
        graph.Output.Add(OnnxGraphBuilder.ValueInfo(Output, OnnxElementType.Float, [1, biases.Length], "N"));
        var proto = new ModelProto { IrVersion = 8, Graph = graph };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 18 });
        byte[] bytes = proto.ToByteArray();
        File.WriteAllBytes(Path.Combine(_folder, "gate.onnx"), bytes);
        var manifest = new GateManifest
        {
            Input = MobileNetSplit.Cut, Output = Output, Codecs = Ladder, Threshold = threshold, GateSha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
            Calibration = new GateEvaluation { Static = [.. new[] { 1500.0, 5000, 16000 }.Select(b => new GateCurvePoint { MeanBytes = b })] },
        };
        File.WriteAllText(Path.Combine(_folder, GateManifest.FileName), manifest.ToJson());
        return split;
    }

    [AssetFact(MobileNetSplit.TfLite, "imagenet-sample")]
    public async Task Each_frame_is_coded_with_the_gates_choice_and_the_server_answers_every_setting()
    {
        // Softmax of (0, 3, 0): 0.045, 0.909, 0.045. Running sums 0.045, 0.955: threshold 0.9 picks setting 1.
        var split = SplitWithGate([0f, 3f, 0f], threshold: 0.9);
        var images = MobileNetSplit.Images(3);
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = _folder, Port = 0 });
        using var gate = DeviceGate.Load(split)!;
        await using var client = await SplitClient.ConnectAsync(new SplitClientOptions
        {
            Server = server.Url, ManifestHash = split.ManifestHash, Codecs = [.. gate.Codecs.Select(c => c.Spec)],
        });
        using var head = SplitHead.Load(split);
        var unused = FeatureCodecs.Create("raw");

        foreach (var (ceiling, expected) in new[] { (2, 1), (0, 0) })
        {
            gate.Ceiling = ceiling;
            var results = await ImageClassificationRun.RunAsync(client, images, p => head.Encode(p, unused, gate: gate), inFlight: 2);
            Assert.All(results, r =>
            {
                Assert.NotNull(r.Result);
                Assert.Equal(expected, r.Gate!.Index);
                Assert.Equal(head.Encode(r.Image, gate.Codecs[expected]).Frame.Length, r.PayloadBytes);
            });
        }
        Assert.Equal(2 * images.Count, server.Metrics.Executed(ServingModes.Split));

        var (shape, _) = split.CutSampleShape();
        var zeros = new float[shape.Aggregate(1L, (a, b) => a * b)];
        using var always = DeviceGate.Load(split, threshold: GatePolicy.Never)!;
        Assert.Equal(2, always.Choose(zeros, shape).Index);
        using var cheapest = DeviceGate.Load(split, threshold: 0)!;
        Assert.Equal(0, cheapest.Choose(zeros, shape).Index);
    }

    [AssetFact(MobileNetSplit.TfLite, "imagenet-sample")]
    public void The_link_budget_sets_the_ceiling_and_a_tampered_gate_is_refused()
    {
        var split = SplitWithGate([0f, 0f, 0f], threshold: 0.5);
        using (var gate = DeviceGate.Load(split)!)
        {
            Assert.Equal(2, gate.Ceiling);
            Assert.Equal(1, gate.CeilingForBudget(6000));
            Assert.Equal(2, gate.CeilingForBudget(16000));
            Assert.Equal(0, gate.CeilingForBudget(100));
            Assert.Throws<ArgumentOutOfRangeException>(() => gate.Ceiling = 3);
        }
        File.AppendAllText(Path.Combine(_folder, "gate.onnx"), "x");
        Assert.Throws<InvalidDataException>(() => DeviceGate.Load(split));
        File.Delete(Path.Combine(_folder, GateManifest.FileName));
        Assert.Null(DeviceGate.Load(split));
    }
}
