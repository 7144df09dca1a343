using Cleave.Models.Graph;

namespace Cleave.Models.Splitting;

/// <summary>
/// Finds candidate cuts structurally. Walk the live value-dependent nodes in topological order; after each, the
/// frontier is the set of value-dependent tensors already made (or main graph inputs) that a later node still reads.
/// A frontier of one tensor is a single-tensor split point; of 2..<see cref="MaxTensors"/>, a multi-tensor cut
/// (e.g. across a residual branch). Frontiers that still hold a main graph input or a graph output are skipped
/// (the head or tail would be empty for that part). For a single-tensor separator every topological order exposes
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
        var lastUse = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in ordered)
            foreach (string i in node.Inputs)
                if (roles.TryGetRole(i, out var r) && r is TensorRole.Dynamic or TensorRole.ShapeOnly)
                    lastUse[i] = Math.Max(lastUse.GetValueOrDefault(i, -1), position[node]);
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
                if (graph.IsGraphInput(t) || graph.IsGraphOutput(t)) { usable = false; break; }
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
