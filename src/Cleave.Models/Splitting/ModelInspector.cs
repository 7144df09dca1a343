using Cleave.Models.Graph;
using Cleave.Models.Onnx;
using Cleave.Models.Profiling;

namespace Cleave.Models.Splitting;

/// <summary>
/// Builds the <see cref="ModelReport"/>: inputs, outputs, opsets, parameters, MACs and every candidate split point.
/// All single-tensor split points are listed; multi-tensor cuts are listed only inside stretches with no single
/// split point (between neighbouring single ones), at most <see cref="SplitOptions.MultiTensorCutsPerGap"/> per
/// stretch and per tenth of the model's MACs within a stretch, smallest first, so a residual network gets one cross-branch cut per block
/// rather than dozens, and a long stretch without single cuts still gets candidates along it.
/// </summary>
public static class ModelInspector
{
    public static ModelReport Inspect(SplitAnalysis analysis, string modelName = "", bool profile = false, int runs = 5, Action<string>? progress = null)
    {
        var graph = analysis.Graph;
        var symbols = analysis.Symbols;
        var sampleValues = analysis.SampleValues;

        // One probe run for every tensor we need a shape of: candidate cuts and the operands of counted operators.
        var needed = new List<string>();
        foreach (var f in analysis.Frontiers) { needed.AddRange(f.Tensors); needed.AddRange(f.AuxiliaryTensors); }
        foreach (var node in graph.Nodes)
            if (MacEstimator.Counts(node.OpType))
            {
                needed.AddRange(node.Inputs.Where(i => !graph.IsInitializer(i)));
                needed.AddRange(node.Outputs);
            }
        if (needed.Count > 0) progress?.Invoke($"probing shapes of {needed.Distinct().Count()} tensors");
        analysis.EnsureTypes(needed);

        var macs = new long[graph.Nodes.Count];
        long totalMacs = 0;
        foreach (var node in graph.Nodes)
        {
            macs[node.Order] = MacEstimator.Estimate(node, ShapeOf);
            if (analysis.Roles.IsLive(node)) totalMacs += macs[node.Order];
        }
        long totalParams = graph.ParameterCount;

        var chosen = SelectCandidates(analysis, macs);
        Dictionary<string, HostTensor>? inputs = profile ? DummyInputs.Create(graph, symbols) : null;
        double? fullMs = null;
        if (profile)
        {
            progress?.Invoke("profiling the full model");
            fullMs = LatencyProfiler.MeasureModel(analysis.Model.ToBytes(), inputs!, runs, analysis.Options.IntraOpThreads);
        }

        var points = new List<SplitPointReport>();
        for (int i = 0; i < chosen.Count; i++)
        {
            var f = chosen[i];
            CutPlan plan;
            try { plan = analysis.Plan(f.Tensors); }
            catch (InvalidSplitException) { continue; } // defensive: a frontier is valid by construction
            long headMacs = plan.HeadNodes.Sum(n => macs[n.Order]);
            long tailMacs = plan.TailNodes.Sum(n => macs[n.Order]);
            long headParams = Parameters(graph, plan.HeadNodes);
            long tailParams = Parameters(graph, plan.TailNodes);
            double? headMs = null, tailMs = null;
            if (profile)
            {
                progress?.Invoke($"profiling split {i + 1}/{chosen.Count} at {string.Join(",", f.Tensors)}");
                var split = ModelSplitter.Split(analysis, f.Tensors);
                var latency = LatencyProfiler.Measure(split, inputs!, runs, analysis.Options.IntraOpThreads);
                (headMs, tailMs) = (latency.HeadMilliseconds, latency.TailMilliseconds);
            }
            points.Add(new SplitPointReport
            {
                Position = f.Position,
                Kind = f.IsMultiTensor ? "multi" : "single",
                Tensors = f.Tensors,
                AuxiliaryTensors = plan.AuxiliaryTensors,
                Shape = [.. f.Tensors.Select(t => analysis.TypeOf(t).Dimensions ?? [])],
                Dtypes = [.. f.Tensors.Select(t => analysis.TypeOf(t).ElementTypeName)],
                BytesFp32 = analysis.BytesFp32(f.Tensors),
                AuxiliaryBytes = AuxiliaryBytes(analysis, plan.AuxiliaryTensors),
                HeadParams = headParams,
                TailParams = tailParams,
                HeadParamShare = totalParams > 0 ? (double)headParams / totalParams : 0,
                HeadMacs = headMacs,
                TailMacs = tailMacs,
                HeadMacShare = totalMacs > 0 ? (double)headMacs / totalMacs : 0,
                HeadMs = headMs,
                TailMs = tailMs,
            });
        }

        return new ModelReport
        {
            Model = modelName,
            Sha256 = analysis.Model.Sha256,
            IrVersion = analysis.Model.Proto.IrVersion,
            Producer = analysis.Model.Proto.ProducerName,
            Opsets = analysis.Model.Opsets,
            Inputs = [.. graph.Inputs.Select(i => SplitTensor.From(i, graph.DeclaredType(i) ?? new TensorType(0, null), analysis.Roles.SideInputs.Contains(i) ? "side" : "input", sampleValues))],
            Outputs = [.. graph.Outputs.Select(o => SplitTensor.From(o, graph.DeclaredType(o) ?? new TensorType(0, null), "output", sampleValues))],
            SideInputs = [.. graph.Inputs.Where(analysis.Roles.SideInputs.Contains)],
            SymbolValues = symbols,
            NodeCount = graph.Nodes.Count,
            Parameters = totalParams,
            Macs = totalMacs,
            FullMs = fullMs,
            SplitPoints = points,
        };

        long[]? ShapeOf(string tensor) => analysis.ConcreteShape(tensor);
    }

    /// <summary>
    /// All single-tensor frontiers, plus the smallest multi-tensor ones in each stretch between neighbouring single
    /// ones that holds real compute (a counted MAC operator); stretches without (e.g. inside a LayerNorm) are skipped.
    /// </summary>
    public static IReadOnlyList<FrontierCut> SelectCandidates(SplitAnalysis analysis, IReadOnlyList<long> nodeMacs)
    {
        var ordered = FrontierScanner.OrderedNodes(analysis.Roles);
        var prefixMacs = new long[ordered.Count + 1];
        for (int i = 0; i < ordered.Count; i++) prefixMacs[i + 1] = prefixMacs[i] + nodeMacs[ordered[i].Order];

        var result = new List<FrontierCut>();
        var gap = new List<FrontierCut>();
        int gapStart = -1;
        foreach (var f in analysis.Frontiers)
        {
            if (f.IsMultiTensor) { gap.Add(f); continue; }
            FlushGap(f.Position);
            result.Add(f);
            gapStart = f.Position;
        }
        FlushGap(ordered.Count - 1);
        result.Sort((a, b) => a.Position.CompareTo(b.Position));
        return result;

        void FlushGap(int gapEnd)
        {
            // MACs run strictly after the previous single cut and up to the next one.
            bool hasCompute = prefixMacs[gapEnd + 1] - prefixMacs[gapStart + 1] > 0;
            // A cross-branch cut is only worth listing when the head side of it already ran some of that compute
            // (otherwise it is a trivial variant of the previous single cut, e.g. inside a normalization).
            // Long stretches (e.g. a feature pyramid whose skip tensors stay live across most of a backbone) get
            // candidates spread out: the limit applies per tenth of the model's MACs counted from the stretch's start.
            long total = prefixMacs[^1];
            if (gap.Count > 0 && hasCompute)
                foreach (var bucket in gap
                    .Where(g => prefixMacs[g.Position + 1] > prefixMacs[gapStart + 1])
                    .GroupBy(g => total > 0 ? (prefixMacs[g.Position + 1] - prefixMacs[gapStart + 1] - 1) * 10 / total : 0))
                    result.AddRange(bucket
                        .OrderBy(g => analysis.BytesFp32(g.Tensors) ?? long.MaxValue)
                        .ThenBy(g => g.Tensors.Count)
                        .ThenBy(g => g.Position)
                        .Take(analysis.Options.MultiTensorCutsPerGap));
            gap.Clear();
        }
    }

    /// <summary>Floating-point parameters the given nodes read (initializers and Constant values), each counted once.</summary>
    public static long Parameters(OnnxGraph graph, IEnumerable<GraphNode> nodes)
    {
        var counted = new HashSet<string>(StringComparer.Ordinal);
        long total = 0;
        foreach (var node in nodes)
        {
            foreach (string i in node.Inputs)
                if (graph.Initializers.TryGetValue(i, out var init) && counted.Add(i)) total += OnnxGraph.ParameterElements(init);
            if (node.OpType == "Constant" && OnnxGraph.ConstantValue(node.Proto) is { } value) total += OnnxGraph.ParameterElements(value);
        }
        return total;
    }

    private static long? AuxiliaryBytes(SplitAnalysis analysis, IReadOnlyList<string> tensors)
    {
        long total = 0;
        foreach (string t in tensors)
        {
            var type = analysis.TypeOf(t);
            if (type.ElementCount(analysis.SampleValues) is not long n) return null;
            total += n * Math.Max(1, OnnxElementType.SizeInBytes(type.ElementType));
        }
        return total;
    }
}
