using Cleave.Models.Onnx;
using Cleave.Models.Splitting;
using Cleave.Training.Export;
using Cleave.Training.Layers;
using Cleave.Training.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Cleave.Training.Tests;

/// <summary>Layers trained here export to ONNX that ONNX Runtime runs to the same numbers, alone and merged into a split.</summary>
public sealed class LayerExportTests : IDisposable
{
    private const double Tolerance = 1e-5;
    private readonly string _folder = Directory.CreateTempSubdirectory("cleave-export-").FullName;

    public LayerExportTests() => TorchRuntime.Initialise();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static SequentialLayer SmallNet() => new(
        new Conv2dLayer(3, 8, 3, stride: 2), new BatchNorm2dLayer(8), new ActivationLayer(relu6: true),
        new ResidualLayer(new SequentialLayer(new Conv2dLayer(8, 8, 3, groups: 8), new BatchNorm2dLayer(8), new ActivationLayer(),
            new Conv2dLayer(8, 8, 1, bias: false), new BatchNorm2dLayer(8))),
        new PoolLayer(PoolKind.Max, 2), new PoolLayer(PoolKind.Average, 2), new IdentityLayer(),
        new PoolLayer(PoolKind.GlobalAverage), new LinearLayer(8, 5));

    [Fact]
    public void Exported_layers_match_TorchSharp_through_ONNX_Runtime()
    {
        manual_seed(1);
        using var net = SmallNet();
        // A few training-mode passes give the batch norms real running statistics to fold.
        net.train();
        using (no_grad())
            for (int i = 0; i < 3; i++) net.forward(randn(8, 3, 32, 32) * 2 + 0.5).Dispose();
        net.eval();
        using var x = randn(4, 3, 32, 32);
        using var expected = net.forward(x);

        var model = LayerExport.ToModel(net, [1, 3, 32, 32]);
        var ort = ParityModels.RunOrt(model, "input", [4, 3, 32, 32], x.data<float>().ToArray(), "output")["output"];
        Assert.True(ParityModels.MaxRelativeDifference(expected, ort) <= Tolerance);
        // Folding: the convolution followed by a batch norm becomes one Conv; the lone batch norm is Mul + Add.
        Assert.DoesNotContain(model.Graph.Nodes, n => n.OpType == "BatchNormalization");
    }

    [Fact]
    public void A_bottleneck_merged_into_a_split_runs_in_ONNX_Runtime_like_TorchSharp_and_changes_the_manifest_hash()
    {
        string split = SplitOfResNetStyleModel();
        var before = SplitManifest.Load(Path.Combine(split, "split.json"));
        manual_seed(2);
        using var encoder = new SequentialLayer(new Conv2dLayer(16, 4, 1), new BatchNorm2dLayer(4), new ActivationLayer(relu6: true));
        using var decoder = new SequentialLayer(new Conv2dLayer(4, 16, 3), new ActivationLayer());
        string merged = Path.Combine(_folder, "merged");
        var after = SplitAttachment.Attach(split, merged, encoder, decoder, newCutName: "bottleneck");

        Assert.NotEqual(before.ComputeHash(), after.ComputeHash());
        Assert.Equal(before.SourceSha256, after.SourceSha256);
        Assert.Equal("bottleneck", after.Cut[0].Name);
        Assert.Equal([4L, 16, 16], after.Cut[0].Shape.Skip(1).Select(d => d.Value!.Value));

        using var x = randn(2, 3, 64, 64);
        var head = OnnxModel.Load(Path.Combine(merged, "head.onnx"));
        var tail = OnnxModel.Load(Path.Combine(merged, "tail.onnx"));
        var code = ParityModels.RunOrt(head, "image", [2, 3, 64, 64], x.data<float>().ToArray(), "bottleneck")["bottleneck"];
        var logits = ParityModels.RunOrt(tail, "bottleneck", code.Shape, (float[])code.Data, "logits")["logits"];

        using var headModule = OnnxModule.FromSplit(split, SplitHalf.Head);
        using var tailModule = OnnxModule.FromSplit(split, SplitHalf.Tail);
        encoder.eval();
        decoder.eval();
        using var _ = no_grad();
        using var torchCode = encoder.forward(headModule.forward(x));
        using var torchLogits = tailModule.forward(decoder.forward(torchCode));
        Assert.True(ParityModels.MaxRelativeDifference(torchCode, code) <= Tolerance);
        Assert.True(ParityModels.MaxRelativeDifference(torchLogits, logits) <= Tolerance);
    }

    [Fact]
    public void A_device_layer_that_changes_the_cut_shape_without_a_server_layer_is_refused_and_nothing_is_written()
    {
        string split = SplitOfResNetStyleModel();
        using var encoder = new Conv2dLayer(16, 4, 1);
        string merged = Path.Combine(_folder, "refused");
        var error = Assert.Throws<ArgumentException>(() => SplitAttachment.Attach(split, merged, encoder, null));
        Assert.Contains("server layer", error.Message);
        Assert.False(Directory.Exists(merged));
    }

    private string SplitOfResNetStyleModel()
    {
        string dir = Path.Combine(_folder, "split");
        if (!Directory.Exists(dir))
            ModelSplitter.Split(OnnxModuleTests.ResNetStyleModel(symbolicSize: false), ["block_out"], sourceName: "resnet_style.onnx").Save(dir);
        return dir;
    }
}
