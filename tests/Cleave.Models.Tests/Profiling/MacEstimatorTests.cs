using Cleave.Models.Graph;
using Cleave.Models.Profiling;
using Onnx;

namespace Cleave.Models.Tests.Profiling;

public sealed class MacEstimatorTests
{
    private static long Macs(NodeProto node, Dictionary<string, long[]> shapes)
    {
        var g = new GraphProto();
        foreach (string i in node.Input) g.Input.Add(TestModels.Float(i, 1));
        g.Output.Add(TestModels.Float(node.Output[0], 1));
        g.Node.Add(node);
        var graphNode = new OnnxGraph(g).Nodes[0];
        return MacEstimator.Estimate(graphNode, t => shapes.GetValueOrDefault(t));
    }

    [Fact]
    public void GroupedConvCountsInputChannelsPerGroup()
    {
        // Depthwise 3x3 over 32 channels: weight [32,1,3,3], output [1,32,10,10] -> 3200 * 9.
        var node = TestModels.Node("Conv", ["x", "w"], ["y"], "dw");
        Assert.Equal(3200 * 9, Macs(node, new() { ["y"] = [1, 32, 10, 10], ["w"] = [32, 1, 3, 3] }));
    }

    [Fact]
    public void ConvTransposeCountsInputElementsTimesOutputChannelsAndKernel()
    {
        // Input [1,8,4,4], weight [8,3,2,2] (Cin, Cout/group, kH, kW) -> 128 * 3 * 4.
        var node = TestModels.Node("ConvTranspose", ["x", "w"], ["y"], "up");
        Assert.Equal(128 * 12, Macs(node, new() { ["x"] = [1, 8, 4, 4], ["w"] = [8, 3, 2, 2] }));
    }

    [Fact]
    public void GemmHonoursTransA()
    {
        var node = TestModels.Node("Gemm", ["a", "b"], ["y"], "fc");
        node.Attribute.Add(new AttributeProto { Name = "transA", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        // A is [K=7, M=2] transposed; output [2,5] -> 2*5*7.
        Assert.Equal(70, Macs(node, new() { ["a"] = [7, 2], ["y"] = [2, 5] }));
    }

    [Fact]
    public void BatchedMatMulCountsEveryBatch()
    {
        var node = TestModels.Node("MatMul", ["a", "b"], ["y"], "bmm");
        Assert.Equal(2 * 4 * 6 * 6 * 8, Macs(node, new() { ["a"] = [2, 4, 6, 8], ["y"] = [2, 4, 6, 6] }));
    }

    [Fact]
    public void UnknownShapesAndOtherOperatorsCountZero()
    {
        Assert.Equal(0, Macs(TestModels.Node("MatMul", ["a", "b"], ["y"], "m"), new()));
        Assert.Equal(0, Macs(TestModels.Node("Relu", ["a"], ["y"], "r"), new() { ["a"] = [10], ["y"] = [10] }));
    }
}
