using Cleave.Models.Graph;

namespace Cleave.Models.Splitting;

/// <summary>
/// Finds candidate cuts structurally. Walk the live value-dependent nodes in topological order; after each, the
/// frontier is the set of value-dependent tensors already made (or main graph inputs) that a later node still reads.
/// A frontier of one tensor is a single-tensor split point; of 2..<see cref="MaxTensors"/>, a multi-tensor cut
/// (e.g. across a residual branch). Per-layer state is no obstacle: a graph input no node has read yet (a KV cache
/// <c>past_*</c> of a later layer) becomes a tail input, and a graph output no later node reads (a <c>present_*</c> of
/// an earlier layer) becomes a head output. Frontiers that still hold a graph input already read before the cut, or
/// a graph output read after it, are skipped (both halves would need it). For a single-tensor separator every topological order exposes
/// it, so the single cuts found are all there are.
/// </summary>
public static class FrontierScanner
{
    public const int MaxTensors = 3;

    /// <summary>The nodes a frontier position counts: live, value-dependent nodes in topological order.</summary>
    public static List<GraphNode> OrderedNodes(GraphRoles roles)
    {
        var ordered = new List<GraphNode>();
        foreach (var node in roles.Graph.Nodes)
            if (roles.IsLive(node) && !roles.IsFree(node)) ordered.Add(node);
        return ordered;
    }

    public static IReadOnlyList<FrontierCut> Scan(GraphRoles roles, int maxTensors = MaxTensors)
    {
        var graph = roles.Graph;
        var ordered = OrderedNodes(roles);
        var position = new Dictionary<GraphNode, int>();
        for (int i = 0; i < ordered.Count; i++) position[ordered[i]] = i;

        // lastUse[t]: position of the last ordered node that reads t; int.MaxValue for graph outputs.
        // firstUse/lastRead: positions of the first and last ordered nodes that read t (state inputs and outputs).
        var lastUse = new Dictionary<string, int>(StringComparer.Ordinal);
        var firstUse = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in ordered)
            foreach (string i in node.Inputs)
                if (roles.TryGetRole(i, out var r) && r is TensorRole.Dynamic or TensorRole.ShapeOnly)
                {
                    lastUse[i] = Math.Max(lastUse.GetValueOrDefault(i, -1), position[node]);
                    firstUse.TryAdd(i, position[node]);
                }
        var lastRead = new Dictionary<string, int>(lastUse, StringComparer.Ordinal);
        foreach (string o in graph.Outputs) lastUse[o] = int.MaxValue;

        var live = new List<string>();
        foreach (string input in graph.Inputs)
            if (!roles.SideInputs.Contains(input) && lastUse.ContainsKey(input)) live.Add(input);

        var found = new List<FrontierCut>();
        var seenSets = new HashSet<string>(StringComparer.Ordinal);
        for (int k = 0; k < ordered.Count - 1; k++)
        {
            foreach (string o in ordered[k].Outputs)
                if (lastUse.ContainsKey(o)) live.Add(o);
            live.RemoveAll(t => lastUse[t] <= k);

            var primary = new List<string>();
            var auxiliary = new List<string>();
            bool usable = true;
            foreach (string t in live)
            {
                if (graph.IsGraphInput(t))
                {
                    if (firstUse[t] > k) continue; // state input only the tail reads
                    usable = false; break;
                }
                if (graph.IsGraphOutput(t))
                {
                    if (lastRead.GetValueOrDefault(t, -1) <= k) continue; // state output the head produces
                    usable = false; break;
                }
                (roles.RoleOf(t) == TensorRole.ShapeOnly ? auxiliary : primary).Add(t);
            }
            if (!usable || primary.Count == 0 || primary.Count > maxTensors) continue;
            string key = string.Join("\n", primary.Order(StringComparer.Ordinal));
            if (!seenSets.Add(key)) continue;
            found.Add(new FrontierCut(k, primary, auxiliary));
        }
        return found;
    }
}
