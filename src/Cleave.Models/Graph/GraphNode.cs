using Onnx;

namespace Cleave.Models.Graph;

/// <summary>
/// One node of an analysed graph: its position in the topological order, and the tensors it reads and writes.
/// <see cref="Inputs"/> includes tensors that a subgraph attribute (If, Loop, Scan bodies) reads from the outer
/// scope, because a cut must deliver those too; optional inputs left empty are dropped.
/// </summary>
public sealed class GraphNode
{
    internal GraphNode(int order, NodeProto proto, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs)
    {
        Order = order;
        Proto = proto;
        Inputs = inputs;
        Outputs = outputs;
    }

    /// <summary>Position in <see cref="OnnxGraph.Nodes"/> (topological order).</summary>
    public int Order { get; }

    public NodeProto Proto { get; }

    public string OpType => Proto.OpType;

    /// <summary>The node's name, or a readable stand-in when the file leaves it empty.</summary>
    public string DisplayName => Proto.Name.Length > 0 ? Proto.Name : $"{Proto.OpType}#{Order}";

    public IReadOnlyList<string> Inputs { get; }

    public IReadOnlyList<string> Outputs { get; }

    public override string ToString() => $"{DisplayName} ({OpType})";
}
