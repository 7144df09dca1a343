using Cleave.Models.Onnx;
using Cleave.Models.Splitting;

namespace Cleave.Models.Profiling;

/// <summary>How far head-then-tail drifted from the full model on one input.</summary>
/// <param name="MaxAbsoluteError">Largest |full - split| over all outputs.</param>
/// <param name="MaxRelativeError">Largest, over outputs, of max|full - split| / max|full| (relative to the output's range, so near-zero elements do not blow it up).</param>
public sealed record SplitVerification(double MaxAbsoluteError, double MaxRelativeError, double Tolerance, IReadOnlyList<string> ComparedOutputs)
{
    public bool Passed => MaxRelativeError <= Tolerance;
}

/// <summary>Runs the full model and head-then-tail on the same inputs and compares every graph output.</summary>
public static class SplitVerifier
{
    public const double DefaultTolerance = 1e-4;

    public static SplitVerification Verify(OnnxModel full, SplitModels split, IReadOnlyDictionary<string, HostTensor> inputs,
        double tolerance = DefaultTolerance, int intraOpThreads = 0)
    {
        Dictionary<string, HostTensor> expected;
        using (var runner = new OrtModelRunner(full.ToBytes(), intraOpThreads))
            expected = runner.Run(inputs);

        Dictionary<string, HostTensor> headResults;
        using (var head = new OrtModelRunner(split.Head.ToBytes(), intraOpThreads))
            headResults = head.Run(Subset(inputs, split.Plan.HeadInputs));

        var tailInputs = TailFeeds(split.Plan, headResults, inputs);
        Dictionary<string, HostTensor> actual;
        using (var tail = new OrtModelRunner(split.Tail.ToBytes(), intraOpThreads))
            actual = tail.Run(tailInputs);
        // The split's outputs are the tail's plus the state outputs the head made (KV caches of layers before the cut).
        foreach (string state in split.Plan.HeadStateOutputs) actual[state] = headResults[state];

        double maxAbs = 0, maxRel = 0;
        foreach (var (name, e) in expected)
        {
            if (!actual.TryGetValue(name, out var a))
                throw new InvalidOperationException($"the tail did not produce output '{name}'");
            if (!e.Shape.AsSpan().SequenceEqual(a.Shape))
                throw new InvalidOperationException($"output '{name}' has shape [{string.Join(",", a.Shape)}] from the split but [{string.Join(",", e.Shape)}] from the full model");
            double diff = 0, range = 0;
            for (long i = 0; i < e.ElementCount; i++)
            {
                double x = e.ValueAt(i), y = a.ValueAt(i);
                double d = Math.Abs(x - y);
                if (double.IsNaN(d)) d = double.IsNaN(x) && double.IsNaN(y) ? 0 : double.PositiveInfinity;
                diff = Math.Max(diff, d);
                range = Math.Max(range, Math.Abs(x));
            }
            maxAbs = Math.Max(maxAbs, diff);
            maxRel = Math.Max(maxRel, range > 0 ? diff / range : diff);
        }
        return new SplitVerification(maxAbs, maxRel, tolerance, [.. expected.Keys]);
    }

    /// <summary>What the tail reads: the crossing tensors from the head's results, then side and state inputs.</summary>
    internal static Dictionary<string, HostTensor> TailFeeds(CutPlan plan, IReadOnlyDictionary<string, HostTensor> headResults,
        IReadOnlyDictionary<string, HostTensor> inputs)
    {
        var feeds = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        foreach (string t in plan.CrossingTensors) feeds[t] = headResults[t];
        foreach (string i in plan.TailGraphInputs)
            feeds[i] = inputs.TryGetValue(i, out var v) ? v : throw new ArgumentException($"no value was given for input '{i}'");
        return feeds;
    }

    internal static Dictionary<string, HostTensor> Subset(IReadOnlyDictionary<string, HostTensor> all, IEnumerable<string> names)
    {
        var result = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        foreach (string n in names)
            result[n] = all.TryGetValue(n, out var t) ? t : throw new ArgumentException($"no value was given for input '{n}'");
        return result;
    }
}
