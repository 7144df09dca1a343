using Cleave.Models.Graph;

namespace Cleave.Models.Splitting;

/// <summary>
/// Which nodes each half of a cut runs. The head is everything the cut tensors depend on; the tail is everything
/// the graph outputs depend on, stopping at the cut tensors, side inputs and initializers. Free nodes (constants,
/// side-input arithmetic) may appear in both. Shape-only tensors the tail needs are added to the cut as auxiliary
/// tensors (the tail cannot see the shapes of tensors it never receives). Per-layer state (KV caches) splits with
/// the layers: graph outputs that do not depend on the cut (<c>present_*</c> of layers before it) are head outputs
/// beside the cut tensors, and graph inputs only the tail reads (<c>past_*</c> of layers after it) are tail inputs.
/// </summary>
public sealed class CutPlan
{
    private CutPlan(GraphRoles roles, IReadOnlyList<string> cut, IReadOnlyList<string> auxiliary,
        IReadOnlyList<GraphNode> head, IReadOnlyList<GraphNode> tail, IReadOnlyList<string> headInputs, IReadOnlyList<string> tailSideInputs,
        IReadOnlyList<string> headStateOutputs, IReadOnlyList<string> tailStateInputs)
    {
        HeadStateOutputs = headStateOutputs;
        TailStateInputs = tailStateInputs;
        var onHead = new HashSet<string>(headStateOutputs, StringComparer.Ordinal);
        TailOutputs = roles.Graph.Outputs.Where(o => !onHead.Contains(o)).ToList();
        Roles = roles;
        CutTensors = cut;
        AuxiliaryTensors = auxiliary;
        HeadNodes = head;
        TailNodes = tail;
        HeadInputs = headInputs;
        TailSideInputs = tailSideInputs;
    }

    public GraphRoles Roles { get; }

    /// <summary>The tensors the caller asked to cut at, in the caller's order.</summary>
    public IReadOnlyList<string> CutTensors { get; }

    /// <summary>Shape-only tensors the tail also needs, carried with the cut.</summary>
    public IReadOnlyList<string> AuxiliaryTensors { get; }

    /// <summary>Everything that crosses: cut tensors then auxiliary tensors.</summary>
    public IEnumerable<string> CrossingTensors => CutTensors.Concat(AuxiliaryTensors);

    public IReadOnlyList<GraphNode> HeadNodes { get; }

    public IReadOnlyList<GraphNode> TailNodes { get; }

    /// <summary>Graph inputs the head reads, in graph order (main inputs and any side inputs it uses).</summary>
    public IReadOnlyList<string> HeadInputs { get; }

    /// <summary>Side inputs the tail reads besides the crossing tensors, in graph order.</summary>
    public IReadOnlyList<string> TailSideInputs { get; }

    /// <summary>Graph outputs the head produces besides the crossing tensors (state of layers before the cut), in graph order.</summary>
    public IReadOnlyList<string> HeadStateOutputs { get; }

    /// <summary>Non-side graph inputs only the tail reads (state of layers after the cut), in graph order.</summary>
    public IReadOnlyList<string> TailStateInputs { get; }

    /// <summary>Graph outputs the tail produces: all of them but <see cref="HeadStateOutputs"/>, in graph order.</summary>
    public IReadOnlyList<string> TailOutputs { get; }

    /// <summary>Every graph input the tail reads besides the crossing tensors: side inputs then state inputs.</summary>
    public IEnumerable<string> TailGraphInputs => TailSideInputs.Concat(TailStateInputs);

    /// <summary>Plans a cut, or throws <see cref="InvalidSplitException"/> (without suggestions) saying why it is not valid.</summary>
    public static CutPlan Create(GraphRoles roles, IReadOnlyList<string> cutTensors)
    {
        var graph = roles.Graph;
        if (cutTensors.Count == 0) throw new InvalidSplitException("no cut tensors were given", []);
        var cut = new List<string>();
        foreach (string t in cutTensors)
        {
            if (cut.Contains(t)) continue;
            if (!graph.Defines(t)) throw new InvalidSplitException($"tensor '{t}' does not exist in the graph", []);
            if (graph.IsGraphInput(t)) throw new InvalidSplitException($"'{t}' is a graph input: cutting there leaves the head empty", []);
            if (graph.IsGraphOutput(t)) throw new InvalidSplitException($"'{t}' is a graph output: the tail must produce it, so it cannot be a cut tensor", []);
            switch (roles.RoleOf(t))
            {
                case TensorRole.Static: throw new InvalidSplitException($"'{t}' is a constant (computed from initializers only): both halves have it, cutting there separates nothing", []);
                case TensorRole.Side: throw new InvalidSplitException($"'{t}' is computed only from side inputs ({string.Join(", ", roles.SideInputs)}): both halves recompute it, cutting there separates nothing", []);
            }
            if (graph.Producer(t) is { } p && !roles.IsLive(p)) throw new InvalidSplitException($"'{t}' does not contribute to any graph output", []);
            cut.Add(t);
        }

        var auxiliary = new List<string>();
        for (int attempt = 0; ; attempt++)
        {
            var crossing = new HashSet<string>(cut.Concat(auxiliary), StringComparer.Ordinal);
            var headStateOutputs = StateOutputsBefore(roles, crossing);
            var head = Ancestors(roles, crossing.Concat(headStateOutputs), stopAt: null, out var headInputs);
            var headSet = new HashSet<GraphNode>(head);
            var tail = TailWalk(roles, crossing, headSet, new HashSet<string>(headInputs, StringComparer.Ordinal),
                new HashSet<string>(headStateOutputs, StringComparer.Ordinal),
                out var tailSideInputs, out var tailStateInputs, out var usedCrossing, out var needShapeOnly, out var leak);
            // Carrying shape-only tensors may resolve a leak too (the tail no longer runs Shape on a head tensor): retry first.
            if (needShapeOnly.Count > 0 && attempt < 8)
            {
                foreach (string t in needShapeOnly)
                    if (!auxiliary.Contains(t)) auxiliary.Add(t);
                continue;
            }
            if (leak is not null) throw new InvalidSplitException(leak, []);
            foreach (string t in cut)
                if (!usedCrossing.Contains(t))
                    throw new InvalidSplitException($"the tail never reads '{t}' once the other cut tensors are given: drop it from the cut", []);
            foreach (var node in tail)
                if (!roles.IsFree(node) && headSet.Contains(node))
                    throw new InvalidSplitException($"node {node} would run in both halves: the cut tensors depend on each other", []);
            auxiliary.RemoveAll(a => !usedCrossing.Contains(a));
            return new CutPlan(roles, cut, auxiliary, head, tail, headInputs, tailSideInputs, headStateOutputs, tailStateInputs);
        }
    }

    /// <summary>
    /// Graph outputs the head makes: made by a value-dependent live node and not downstream of any crossing tensor.
    /// Without per-layer state the only graph outputs depend on the cut, so this is empty.
    /// </summary>
    private static List<string> StateOutputsBefore(GraphRoles roles, HashSet<string> crossing)
    {
        var graph = roles.Graph;
        var downstream = new HashSet<string>(crossing, StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
            foreach (string i in node.Inputs)
                if (downstream.Contains(i)) { downstream.UnionWith(node.Outputs); break; }
        var result = new List<string>();
        foreach (string o in graph.Outputs)
            if (!downstream.Contains(o) && graph.Producer(o) is { } p && roles.IsLive(p) && !roles.IsFree(p) && !result.Contains(o))
                result.Add(o);
        return result;
    }

    /// <summary>Nodes that <paramref name="targets"/> depend on, in topological order, and the graph inputs they read.</summary>
    private static List<GraphNode> Ancestors(GraphRoles roles, IEnumerable<string> targets, HashSet<string>? stopAt, out List<string> graphInputs)
    {
        var graph = roles.Graph;
        var included = new bool[graph.Nodes.Count];
        var inputs = new HashSet<string>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>(targets);
        while (stack.TryPop(out string? t))
        {
            if (!seen.Add(t)) continue;
            if (graph.IsGraphInput(t)) { inputs.Add(t); continue; }
            if (stopAt is not null && stopAt.Contains(t)) continue;
            if (graph.Producer(t) is not { } p || included[p.Order]) continue;
            included[p.Order] = true;
            foreach (string i in p.Inputs) stack.Push(i);
        }
        graphInputs = graph.Inputs.Where(inputs.Contains).ToList();
        return graph.Nodes.Where(n => included[n.Order]).ToList();
    }

    private static List<GraphNode> TailWalk(GraphRoles roles, HashSet<string> crossing, HashSet<GraphNode> head,
        HashSet<string> headInputs, HashSet<string> headOutputs,
        out List<string> sideInputs, out List<string> stateInputs, out HashSet<string> usedCrossing, out List<string> needShapeOnly, out string? leak)
    {
        var graph = roles.Graph;
        var included = new bool[graph.Nodes.Count];
        var sides = new HashSet<string>(StringComparer.Ordinal);
        var states = new HashSet<string>(StringComparer.Ordinal);
        usedCrossing = new HashSet<string>(StringComparer.Ordinal);
        needShapeOnly = [];
        leak = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<(string tensor, GraphNode? reader)>();
        foreach (string o in graph.Outputs)
            if (!headOutputs.Contains(o)) stack.Push((o, null));
        while (stack.TryPop(out var item))
        {
            var (t, reader) = item;
            if (!seen.Add(t)) continue;
            if (crossing.Contains(t)) { usedCrossing.Add(t); continue; }
            if (graph.IsGraphInput(t))
            {
                if (roles.SideInputs.Contains(t)) { sides.Add(t); continue; }
                if (!headInputs.Contains(t)) { states.Add(t); continue; } // state only the tail reads
                leak ??= $"the tail still reads graph input '{t}'{(reader is null ? "" : $" (at node {reader})")} without going through the cut";
                continue;
            }
            if (graph.Producer(t) is not { } p) continue; // initializer
            if (head.Contains(p) && !roles.IsFree(p))
            {
                if (roles.RoleOf(p) == TensorRole.ShapeOnly) { needShapeOnly.Add(t); continue; }
                // A Shape/Size the tail would run on a head tensor (the only way a shape-only node reads a value-dependent
                // tensor): carry its shape-only result instead.
                if (reader is not null && roles.RoleOf(reader) == TensorRole.ShapeOnly)
                {
                    needShapeOnly.AddRange(reader.Outputs);
                    continue;
                }
                leak ??= $"the tail also needs '{t}' (made by node {p} before the cut{(reader is null ? "" : $", read by {reader}")}), which the cut does not carry";
                continue;
            }
            if (included[p.Order]) continue;
            included[p.Order] = true;
            foreach (string i in p.Inputs) stack.Push((i, p));
        }
        sideInputs = graph.Inputs.Where(sides.Contains).ToList();
        stateInputs = graph.Inputs.Where(states.Contains).ToList();
        return graph.Nodes.Where(n => included[n.Order]).ToList();
    }
}
