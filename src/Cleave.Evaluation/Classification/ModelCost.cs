using Cleave.Models.Profiling;
using Cleave.Models.Splitting;

namespace Cleave.Evaluation.Classification;

/// <summary>
/// Parameters and multiply-accumulates of a model and of the head of a cut (what the device stores and computes),
/// from the operator shapes (<see cref="MacEstimator"/>, one shape probe of the model).
/// </summary>
public sealed class ModelCost
{
    private readonly SplitAnalysis _analysis;
    private readonly long[] _nodeMacs;

    public ModelCost(SplitAnalysis analysis)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        _analysis = analysis;
        var graph = analysis.Graph;
        var needed = new List<string>();
        foreach (var node in graph.Nodes)
            if (MacEstimator.Counts(node.OpType))
            {
                needed.AddRange(node.Inputs.Where(i => !graph.IsInitializer(i)));
                needed.AddRange(node.Outputs);
            }
        analysis.EnsureTypes(needed);
        _nodeMacs = new long[graph.Nodes.Count];
        foreach (var node in graph.Nodes)
        {
            _nodeMacs[node.Order] = MacEstimator.Estimate(node, analysis.ConcreteShape);
            if (analysis.Roles.IsLive(node)) TotalMacs += _nodeMacs[node.Order];
        }
        TotalParams = graph.ParameterCount;
    }

    public long TotalMacs { get; }
    public long TotalParams { get; }

    /// <summary>Parameters and MACs of the nodes the head of <paramref name="plan"/> runs.</summary>
    public (long Params, long Macs) Head(CutPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        long macs = 0;
        foreach (var node in plan.HeadNodes) macs += _nodeMacs[node.Order];
        return (ModelInspector.Parameters(_analysis.Graph, plan.HeadNodes), macs);
    }
}
