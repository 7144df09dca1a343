using Cleave.Models.Graph;
using Cleave.Models.Onnx;
using Google.Protobuf;
using Onnx;

namespace Cleave.Models.Tests.Graph;

public sealed class OnnxGraphTests
{
    [Fact]
    public void SortsNodesTopologicallyWhateverTheFileOrder()
    {
        var graph = TestModels.ResidualCnn(shuffleNodes: true).Graph;
        var order = graph.Nodes.Select(n => n.Proto.Name).ToList();
        Assert.Equal(["conv1", "relu1", "conv2", "residual", "pool", "flatten", "fc"], order);
        for (int i = 0; i < graph.Nodes.Count; i++) Assert.Equal(i, graph.Nodes[i].Order);
    }

    [Fact]
    public void KnowsProducersConsumersAndInitializers()
    {
        var graph = TestModels.ResidualCnn().Graph;
        Assert.Equal("relu1", graph.Producer("r1")!.Proto.Name);
        Assert.Equal(["conv2", "residual"], graph.Consumers("r1").Select(n => n.Proto.Name));
        Assert.Null(graph.Producer("w1"));
        Assert.True(graph.IsInitializer("w1"));
        Assert.Equal(["x"], graph.Inputs);
        Assert.Equal(["y"], graph.Outputs);
        Assert.Equal(4 * 3 * 3 * 3 + 4 + 4 * 4 * 3 * 3 + 4 * 5 + 5, graph.ParameterCount);
    }

    [Fact]
    public void InitializersListedAsGraphInputsAreNotInputs()
    {
        var graph = TestModels.ResidualCnn(initializersAsInputs: true).Graph;
        Assert.Equal(["x"], graph.Inputs);
        Assert.Equal(5, graph.InitializersListedAsInputs.Count);
    }

    [Fact]
    public void DeclaredTypesKeepSymbolicDimensions()
    {
        var type = TestModels.ResidualCnn().Graph.DeclaredType("x")!;
        Assert.Equal("float32[N,3,8,8]", type.ToString());
        Assert.Equal(3 * 8 * 8, type.ElementCount());
        Assert.Equal(2 * 3 * 8 * 8, type.ElementCount(new Dictionary<string, long> { ["N"] = 2 }));
    }

    [Fact]
    public void RejectsCyclesAndUndefinedInputs()
    {
        var g = new GraphProto();
        g.Input.Add(TestModels.Float("x", 1));
        g.Output.Add(TestModels.Float("b", 1));
        g.Node.Add(TestModels.Node("Add", ["x", "b"], ["a"], "n1"));
        g.Node.Add(TestModels.Node("Relu", ["a"], ["b"], "n2"));
        var cycle = Assert.Throws<InvalidDataException>(() => TestModels.Model(g, 13).Graph);
        Assert.Contains("cycle", cycle.Message);

        var g2 = new GraphProto();
        g2.Input.Add(TestModels.Float("x", 1));
        g2.Output.Add(TestModels.Float("a", 1));
        g2.Node.Add(TestModels.Node("Add", ["x", "missing"], ["a"], "n1"));
        var undefined = Assert.Throws<InvalidDataException>(() => TestModels.Model(g2, 13).Graph);
        Assert.Contains("'missing'", undefined.Message);
    }

    [Fact]
    public void SubgraphReadsFromOuterScopeCountAsInputs()
    {
        var then = new GraphProto { Name = "then" };
        then.Output.Add(TestModels.Float("t_out", 1));
        then.Node.Add(TestModels.Node("Relu", ["outer"], ["t_out"], "inner"));
        var g = new GraphProto();
        g.Input.Add(TestModels.Float("x", 1));
        g.Input.Add(TestModels.Typed("cond", OnnxElementType.Bool));
        g.Output.Add(TestModels.Float("y", 1));
        g.Node.Add(TestModels.Node("Neg", ["x"], ["outer"], "neg"));
        var ifNode = TestModels.Node("If", ["cond"], ["y"], "if");
        ifNode.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = then });
        ifNode.Attribute.Add(new AttributeProto { Name = "else_branch", Type = AttributeProto.Types.AttributeType.Graph, G = then });
        g.Node.Add(ifNode);
        var graph = TestModels.Model(g, 13).Graph;
        Assert.Contains("outer", graph.Nodes.Single(n => n.OpType == "If").Inputs);
        Assert.Equal("if", graph.Consumers("outer").Single().Proto.Name);
    }

    [Fact]
    public void LoadAndSaveRoundTripKeepsTheModelAndItsHash()
    {
        var model = TestModels.ResidualCnn();
        string path = Path.Combine(Path.GetTempPath(), $"cleave-roundtrip-{Guid.NewGuid():N}.onnx");
        try
        {
            model.Save(path);
            var loaded = OnnxModel.Load(path);
            Assert.Equal(model.Sha256, loaded.Sha256);
            Assert.Equal(OnnxModel.HashHex(File.ReadAllBytes(path)), loaded.Sha256);
            Assert.Equal(model.Graph.Nodes.Count, loaded.Graph.Nodes.Count);
            Assert.Equal(13, loaded.DefaultOpsetVersion);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void GarbageIsNotAModel()
    {
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.FromBytes([1, 2, 3, 4, 5], "junk.bin"));
        Assert.Contains("junk.bin", e.Message);
        Assert.Throws<FileNotFoundException>(() => OnnxModel.Load("/nonexistent/model.onnx"));
    }
}
