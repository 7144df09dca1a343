using Cleave.Models.Splitting;
using Cleave.Training.Export;
using Cleave.Training.Layers;
using static TorchSharp.torch;

namespace Cleave.Training.Tests;

/// <summary>Predefined-sparse convolutions: fixed seeded pattern, exported so ONNX Runtime does only the kept work, same numbers.</summary>
public sealed class SparseLayerTests
{
    private const double Tolerance = 1e-5;

    public SparseLayerTests() => TorchRuntime.Initialise();

    private static SequentialLayer Net(double density) => new(
        new Conv2dLayer(1, 16, 3), new BatchNorm2dLayer(16), new ActivationLayer(),
        density < 1 ? new SparseConv2dLayer(16, 32, 3, density, seed: 7, stride: 2) : new Conv2dLayer(16, 32, 3, stride: 2),
        new BatchNorm2dLayer(32), new ActivationLayer(),
        density < 1 ? new SparseConv2dLayer(32, 32, 3, density, seed: 8) : new Conv2dLayer(32, 32, 3),
        new BatchNorm2dLayer(32), new ActivationLayer(),
        new PoolLayer(PoolKind.GlobalAverage), new LinearLayer(32, 10));

    [Fact]
    public void The_exported_sparse_network_matches_TorchSharp_through_ONNX_Runtime()
    {
        manual_seed(3);
        using var net = Net(0.25);
        net.train();
        using (no_grad())
            for (int i = 0; i < 3; i++) net.forward(randn(8, 1, 28, 28)).Dispose();
        net.eval();
        using var x = randn(5, 1, 28, 28);
        using var expected = net.forward(x);

        var model = LayerExport.ToModel(net, [1, 1, 28, 28]);
        var ort = ParityModels.RunOrt(model, "input", [5, 1, 28, 28], x.data<float>().ToArray(), "output")["output"];
        Assert.True(ParityModels.MaxRelativeDifference(expected, ort) <= Tolerance);
        // The pattern travels as a Gather over channels in front of a grouped Conv; batch norms are folded into it.
        Assert.Equal(2, model.Graph.Nodes.Count(n => n.OpType == "Gather"));
        Assert.Equal(2, model.Graph.Nodes.Count(n => n.OpType == "Conv" && n.Proto.Attribute.Any(a => a.Name == "group" && a.I == 4)));
        Assert.DoesNotContain(model.Graph.Nodes, n => n.OpType == "BatchNormalization");
    }

    [Fact]
    public void Sparse_layers_store_and_compute_a_quarter_of_the_dense_work_by_the_MAC_counter()
    {
        using var dense = Net(1);
        using var sparse = Net(0.25);
        var d = ModelInspector.Inspect(new SplitAnalysis(LayerExport.ToModel(dense, [1, 1, 28, 28])));
        var s = ModelInspector.Inspect(new SplitAnalysis(LayerExport.ToModel(sparse, [1, 1, 28, 28])));
        // Only the two 3x3 trunk layers are sparse: 16*32*9*14*14 + 32*32*9*14*14 MACs dense, a quarter of that sparse.
        long trunkDense = 16L * 32 * 9 * 14 * 14 + 32L * 32 * 9 * 14 * 14;
        Assert.Equal(trunkDense - trunkDense / 4, d.Macs - s.Macs);
        long weightsDense = 16L * 32 * 9 + 32L * 32 * 9;
        // The Gather indices (48 int64 values) are not float parameters.
        Assert.Equal(weightsDense - weightsDense / 4, d.Parameters - s.Parameters);
    }

    [Fact]
    public void The_pattern_is_fixed_by_its_seed_and_every_input_channel_is_read_once()
    {
        var a = SparseConv2dLayer.Permutation(64, 5);
        Assert.Equal(a, SparseConv2dLayer.Permutation(64, 5));
        Assert.NotEqual(a, SparseConv2dLayer.Permutation(64, 6));
        Assert.Equal(Enumerable.Range(0, 64).Select(i => (long)i), a.Order());
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)i), SparseConv2dLayer.Permutation(8, 0));
        Assert.Throws<ArgumentException>(() => new SparseConv2dLayer(30, 32, 3, 0.25, 1));
        Assert.Throws<ArgumentException>(() => new SparseConv2dLayer(32, 32, 3, 0.3, 1));
    }
}
