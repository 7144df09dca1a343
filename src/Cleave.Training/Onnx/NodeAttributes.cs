using Onnx;

namespace Cleave.Training.Onnx;

/// <summary>Typed reads of a node's attributes with ONNX defaults.</summary>
internal readonly struct NodeAttributes(NodeProto node)
{
    private AttributeProto? Find(string name)
    {
        foreach (var a in node.Attribute)
            if (a.Name == name) return a;
        return null;
    }

    public bool Has(string name) => Find(name) is not null;

    public long Int(string name, long fallback) => Find(name) is { } a ? a.I : fallback;

    public float Float(string name, float fallback) => Find(name) is { } a ? a.F : fallback;

    public string String(string name, string fallback) => Find(name) is { } a ? a.S.ToStringUtf8() : fallback;

    public long[]? Ints(string name) => Find(name) is { } a ? [.. a.Ints] : null;

    public TensorProto? Tensor(string name) => Find(name)?.T;
}
