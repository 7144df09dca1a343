using Google.Protobuf;
using Onnx;

namespace Cleave.Models.Onnx;

/// <summary>
/// Accumulates nodes and initializers of one ONNX graph, handing out unique value names. Not a general graph
/// library: it only appends, in topological order, which is all a converter or an exporter needs (the importers,
/// and Cleave.Training's export of trained layers).
/// </summary>
public sealed class OnnxGraphBuilder
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private int _nodeCount;

    public GraphProto Graph { get; } = new();

    /// <summary>Reserves <paramref name="wanted"/> (or wanted_1, wanted_2, ...) as a value name.</summary>
    public string UniqueName(string wanted)
    {
        if (_names.Add(wanted)) return wanted;
        for (int i = 1; ; i++)
        {
            string candidate = $"{wanted}_{i}";
            if (_names.Add(candidate)) return candidate;
        }
    }

    public string AddNode(string opType, IReadOnlyList<string> inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = $"{opType}_{_nodeCount++}" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return output;
    }

    public void AddNode(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = $"{opType}_{_nodeCount++}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
    }

    /// <summary>Adds a node whose output gets a fresh name derived from <paramref name="hint"/>.</summary>
    public string Emit(string opType, string hint, IReadOnlyList<string> inputs, params AttributeProto[] attributes) =>
        AddNode(opType, inputs, UniqueName(hint), attributes);

    public string AddFloats(string hint, ReadOnlySpan<float> values, params long[] dims)
    {
        var t = new TensorProto { Name = UniqueName(hint), DataType = OnnxElementType.Float };
        t.Dims.AddRange(dims);
        t.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));
        Graph.Initializer.Add(t);
        return t.Name;
    }

    public string AddInt64s(string hint, ReadOnlySpan<long> values, params long[] dims)
    {
        var t = new TensorProto { Name = UniqueName(hint), DataType = OnnxElementType.Int64 };
        t.Dims.AddRange(dims);
        t.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));
        Graph.Initializer.Add(t);
        return t.Name;
    }

    public string AddInt64Vector(string hint, params long[] values) => AddInt64s(hint, values, values.Length);

    public string AddRaw(string hint, int dataType, ReadOnlySpan<byte> raw, params long[] dims)
    {
        var t = new TensorProto { Name = UniqueName(hint), DataType = dataType };
        t.Dims.AddRange(dims);
        t.RawData = ByteString.CopyFrom(raw);
        Graph.Initializer.Add(t);
        return t.Name;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static ValueInfoProto ValueInfo(string name, int elementType, IReadOnlyList<long> dims, string? batchParam)
    {
        var shape = new TensorShapeProto();
        for (int i = 0; i < dims.Count; i++)
            shape.Dim.Add(i == 0 && batchParam is not null
                ? new TensorShapeProto.Types.Dimension { DimParam = batchParam }
                : new TensorShapeProto.Types.Dimension { DimValue = dims[i] });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } },
        };
    }
}
