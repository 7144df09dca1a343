using Cleave.Models.Onnx;
using Google.Protobuf;
using Onnx;

namespace Cleave.Models.Tests;

/// <summary>Small ONNX models the tests build with the protobuf classes, so no test depends on a downloaded file.</summary>
internal static class TestModels
{
    /// <summary>
    /// x[N,3,8,8] -> Conv(3x3, pad 1) -> c1 -> Relu -> r1 -> Conv(3x3) -> c2; a = r1 + c2 (residual);
    /// GlobalAveragePool -> p -> Flatten -> f -> Gemm(4->5) -> y[N,5].
    /// MACs: conv1 4*8*8*27 = 6912, conv2 4*8*8*36 = 9216, gemm 4*5 = 20.
    /// </summary>
    public static OnnxModel ResidualCnn(bool initializersAsInputs = false, bool shuffleNodes = false)
    {
        var g = new GraphProto { Name = "residual_cnn" };
        g.Input.Add(Float("x", "N", 3, 8, 8));
        g.Output.Add(Float("y", "N", 5));
        g.Initializer.Add(Weights("w1", 1, 4, 3, 3, 3));
        g.Initializer.Add(Weights("b1", 2, 4));
        g.Initializer.Add(Weights("w2", 3, 4, 4, 3, 3));
        g.Initializer.Add(Weights("wg", 4, 4, 5));
        g.Initializer.Add(Weights("bg", 5, 5));
        var nodes = new List<NodeProto>
        {
            Node("Conv", ["x", "w1", "b1"], ["c1"], "conv1", Ints("pads", 1, 1, 1, 1)),
            Node("Relu", ["c1"], ["r1"], "relu1"),
            Node("Conv", ["r1", "w2"], ["c2"], "conv2", Ints("pads", 1, 1, 1, 1)),
            Node("Add", ["r1", "c2"], ["a"], "residual"),
            Node("GlobalAveragePool", ["a"], ["p"], "pool"),
            Node("Flatten", ["p"], ["f"], "flatten"),
            Node("Gemm", ["f", "wg", "bg"], ["y"], "fc"),
        };
        if (shuffleNodes) nodes.Reverse();
        g.Node.AddRange(nodes);
        if (initializersAsInputs)
            foreach (var init in g.Initializer) g.Input.Add(new ValueInfoProto { Name = init.Name, Type = TypeOf(init) });
        return Model(g, 13);
    }

    /// <summary>
    /// Two self-attention blocks over x[B,S,8] with an int64 attention_mask[B,S] side input that both blocks read:
    /// h1 = x + Attention(x, mask); y = h1 + Attention(h1, mask). Names: h1 is the single split point between blocks.
    /// </summary>
    public static OnnxModel AttentionWithMask()
    {
        var g = new GraphProto { Name = "tiny_attention" };
        g.Input.Add(Float("x", "B", "S", 8));
        g.Input.Add(Typed("attention_mask", OnnxElementType.Int64, "B", "S"));
        g.Output.Add(Float("y", "B", "S", 8));
        g.Initializer.Add(Scalar("one", 1f));
        g.Initializer.Add(Scalar("neg_big", -10000f));
        g.Initializer.Add(Scalar("scale", (float)Math.Sqrt(8)));
        g.Initializer.Add(IntTensor("axis1", [1]));
        // Mask arithmetic reads only the side input: both halves may recompute it.
        g.Node.Add(Node("Cast", ["attention_mask"], ["mask_f"], "mask_cast", Int("to", OnnxElementType.Float)));
        g.Node.Add(Node("Sub", ["one", "mask_f"], ["mask_inv"], "mask_sub"));
        g.Node.Add(Node("Mul", ["mask_inv", "neg_big"], ["mask_add"], "mask_mul"));
        g.Node.Add(Node("Unsqueeze", ["mask_add", "axis1"], ["mask_b"], "mask_unsqueeze"));
        AddAttention(g, "l0", "x", "h1", seed: 10);
        AddAttention(g, "l1", "h1", "y", seed: 20);
        return Model(g, 13);
    }

    private static void AddAttention(GraphProto g, string p, string input, string output, int seed)
    {
        foreach (var (w, i) in new[] { ("wq", 0), ("wk", 1), ("wv", 2), ("wo", 3) })
            g.Initializer.Add(Weights($"{p}.{w}", seed + i, 8, 8));
        g.Node.Add(Node("MatMul", [input, $"{p}.wq"], [$"{p}_q"], $"{p}_q"));
        g.Node.Add(Node("MatMul", [input, $"{p}.wk"], [$"{p}_k"], $"{p}_k"));
        g.Node.Add(Node("MatMul", [input, $"{p}.wv"], [$"{p}_v"], $"{p}_v"));
        g.Node.Add(Node("Transpose", [$"{p}_k"], [$"{p}_kt"], $"{p}_kt", Ints("perm", 0, 2, 1)));
        g.Node.Add(Node("MatMul", [$"{p}_q", $"{p}_kt"], [$"{p}_s"], $"{p}_scores"));
        g.Node.Add(Node("Div", [$"{p}_s", "scale"], [$"{p}_ss"], $"{p}_scale"));
        g.Node.Add(Node("Add", [$"{p}_ss", "mask_b"], [$"{p}_sm"], $"{p}_mask"));
        g.Node.Add(Node("Softmax", [$"{p}_sm"], [$"{p}_attn"], $"{p}_softmax", Int("axis", -1)));
        g.Node.Add(Node("MatMul", [$"{p}_attn", $"{p}_v"], [$"{p}_ctx"], $"{p}_ctx"));
        g.Node.Add(Node("MatMul", [$"{p}_ctx", $"{p}.wo"], [$"{p}_o"], $"{p}_o"));
        g.Node.Add(Node("Add", [input, $"{p}_o"], [output], $"{p}_residual"));
    }

    /// <summary>
    /// x[1,S,4] -> Relu -> r; s = Shape(r); m = MatMul(r, W) -> u = Relu(m); y = Reshape(u, s): the tail needs the
    /// shape-only tensor s, which a cut at m or u must carry as an auxiliary tensor.
    /// </summary>
    public static OnnxModel ShapeCarriedAcrossCut()
    {
        var g = new GraphProto { Name = "shape_carry" };
        g.Input.Add(Float("x", 1, "S", 4));
        g.Output.Add(new ValueInfoProto { Name = "y", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = OnnxElementType.Float } } });
        g.Initializer.Add(Weights("w", 7, 4, 4));
        g.Node.Add(Node("Relu", ["x"], ["r"], "relu0"));
        g.Node.Add(Node("Shape", ["r"], ["s"], "shape"));
        g.Node.Add(Node("MatMul", ["r", "w"], ["m"], "matmul"));
        g.Node.Add(Node("Relu", ["m"], ["u"], "relu1"));
        g.Node.Add(Node("Reshape", ["u", "s"], ["y"], "reshape"));
        return Model(g, 13);
    }

    /// <summary>
    /// An image model with symbolic height and width: x[N,3,H,W] -> Conv(3x3, stride 2, pad 1) -> c -> Relu -> r ->
    /// Conv(1x1) -> y. Inner spatial sizes are H/2 and W/2, which follow no input symbol directly.
    /// </summary>
    public static OnnxModel StridedImageModel()
    {
        var g = new GraphProto { Name = "strided" };
        g.Input.Add(Float("x", "N", 3, "H", "W"));
        g.Output.Add(new ValueInfoProto { Name = "y", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = OnnxElementType.Float } } });
        g.Initializer.Add(Weights("w1", 11, 4, 3, 3, 3));
        g.Initializer.Add(Weights("w2", 12, 2, 4, 1, 1));
        g.Node.Add(Node("Conv", ["x", "w1"], ["c"], "conv1", Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2)));
        g.Node.Add(Node("Relu", ["c"], ["r"], "relu"));
        g.Node.Add(Node("Conv", ["r", "w2"], ["y"], "conv2"));
        return Model(g, 13);
    }

    public static OnnxModel Model(GraphProto graph, long opset)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "cleave-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return OnnxModel.FromBytes(model.ToByteArray(), graph.Name);
    }

    public static NodeProto Node(string op, string[] inputs, string[] outputs, string name, params AttributeProto[] attributes)
    {
        var n = new NodeProto { OpType = op, Name = name };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        n.Attribute.AddRange(attributes);
        return n;
    }

    public static ValueInfoProto Float(string name, params object[] dims) => Typed(name, OnnxElementType.Float, dims);

    public static ValueInfoProto Typed(string name, int elemType, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is string s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d) });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elemType, Shape = shape } } };
    }

    private static TypeProto TypeOf(TensorProto t)
    {
        var shape = new TensorShapeProto();
        foreach (long d in t.Dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = t.DataType, Shape = shape } };
    }

    /// <summary>Deterministic small weights in [-0.5, 0.5).</summary>
    public static TensorProto Weights(string name, int seed, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = OnnxElementType.Float };
        t.Dims.AddRange(dims);
        var random = new Random(seed);
        long count = dims.Aggregate(1L, (a, b) => a * b);
        for (long i = 0; i < count; i++) t.FloatData.Add((float)(random.NextDouble() - 0.5));
        return t;
    }

    private static TensorProto Scalar(string name, float value)
    {
        var t = new TensorProto { Name = name, DataType = OnnxElementType.Float };
        t.FloatData.Add(value);
        return t;
    }

    private static TensorProto IntTensor(string name, long[] values)
    {
        var t = new TensorProto { Name = name, DataType = OnnxElementType.Int64 };
        t.Dims.Add(values.Length);
        t.Int64Data.AddRange(values);
        return t;
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };
}
