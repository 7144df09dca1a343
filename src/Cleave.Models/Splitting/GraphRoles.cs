using Cleave.Models.Graph;

namespace Cleave.Models.Splitting;

/// <summary>
/// The role (<see cref="TensorRole"/>) of every tensor and node of a graph for a given set of side inputs, and which
/// nodes are live (contribute to a graph output). Dead nodes belong to neither half of a split.
/// </summary>
public sealed class GraphRoles
{
    // Operators whose output varies between runs: never duplicate them into both halves.
    private static readonly HashSet<string> Nondeterministic = new(StringComparer.Ordinal)
    {
        "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli",
    };

    private readonly Dictionary<string, TensorRole> _tensorRoles = new(StringComparer.Ordinal);
    private readonly TensorRole[] _nodeRoles;
    private readonly bool[] _live;

    public GraphRoles(OnnxGraph graph, IReadOnlySet<string> sideInputs)
    {
        Graph = graph;
        SideInputs = sideInputs;
        foreach (string init in graph.Initializers.Keys) _tensorRoles[init] = TensorRole.Static;
        foreach (string input in graph.Inputs) _tensorRoles[input] = sideInputs.Contains(input) ? TensorRole.Side : TensorRole.Dynamic;

        _nodeRoles = new TensorRole[graph.Nodes.Count];
        foreach (var node in graph.Nodes)
        {
            var role = ClassifyNode(node);
            _nodeRoles[node.Order] = role;
            foreach (string o in node.Outputs) _tensorRoles[o] = role;
        }

        _live = new bool[graph.Nodes.Count];
        var stack = new Stack<string>(graph.Outputs);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (stack.TryPop(out string? t))
        {
            if (!seen.Add(t) || graph.Producer(t) is not { } p || _live[p.Order]) continue;
            _live[p.Order] = true;
            foreach (string i in p.Inputs) stack.Push(i);
        }
    }

    public OnnxGraph Graph { get; }

    public IReadOnlySet<string> SideInputs { get; }

    public TensorRole RoleOf(string tensor) =>
        _tensorRoles.TryGetValue(tensor, out var role) ? role : throw new KeyNotFoundException($"tensor '{tensor}' is not defined in the graph");

    public bool TryGetRole(string tensor, out TensorRole role) => _tensorRoles.TryGetValue(tensor, out role);

    public TensorRole RoleOf(GraphNode node) => _nodeRoles[node.Order];

    public bool IsLive(GraphNode node) => _live[node.Order];

    /// <summary>Static and side nodes are free: either half that needs their outputs recomputes them.</summary>
    public bool IsFree(GraphNode node) => _nodeRoles[node.Order] is TensorRole.Static or TensorRole.Side;

    private TensorRole ClassifyNode(GraphNode node)
    {
        if (Nondeterministic.Contains(node.OpType)) return TensorRole.Dynamic;
        bool anyDynamic = false, anyShape = false, anySide = false;
        foreach (string i in node.Inputs)
        {
            switch (_tensorRoles.GetValueOrDefault(i, TensorRole.Dynamic))
            {
                case TensorRole.Dynamic: anyDynamic = true; break;
                case TensorRole.ShapeOnly: anyShape = true; break;
                case TensorRole.Side: anySide = true; break;
            }
        }
        // Shape and Size read only the shape of their input, so a value-dependent input yields a shape-only result.
        if (node.OpType is "Shape" or "Size" && node.Proto.Domain is "" or "ai.onnx")
            return anyDynamic || anyShape ? TensorRole.ShapeOnly : anySide ? TensorRole.Side : TensorRole.Static;
        if (anyDynamic) return TensorRole.Dynamic;
        if (anyShape) return TensorRole.ShapeOnly;
        return anySide ? TensorRole.Side : TensorRole.Static;
    }
}
