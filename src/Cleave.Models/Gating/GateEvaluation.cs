using System.Text.Json.Serialization;

namespace Cleave.Models.Gating;

/// <summary>
/// A gate measured on a set of inputs: every static configuration of the ladder, the oracle (each input's cheapest
/// agreeing configuration, the best any gate could do), the gate's curve over thresholds, and the threshold chosen: the
/// one with the fewest mean bytes whose top-1 stays within <see cref="MaxLoss"/> of the best static configuration's.
/// </summary>
public sealed record GateEvaluation
{
    /// <summary>Thresholds the curve is computed at (the running-sum margin of <see cref="GatePolicy"/>).</summary>
    public static IReadOnlyList<double> DefaultThresholds { get; } =
        [.. Enumerable.Range(0, 20).Select(i => Math.Round(i * 0.05, 2)), 0.96, 0.97, 0.98, 0.99, 0.995, 0.999, GatePolicy.Never];

    public int Inputs { get; init; }
    public double MaxLoss { get; init; }
    public IReadOnlyList<GateCurvePoint> Static { get; init; } = [];
    public GateCurvePoint Oracle { get; init; } = new();
    public IReadOnlyList<GateCurvePoint> Curve { get; init; } = [];

    /// <summary>The static configuration with the highest top-1 (the cheapest of equals).</summary>
    [JsonIgnore]
    public GateCurvePoint BestStatic => Static.OrderByDescending(p => p.Top1).ThenBy(p => p.MeanBytes).First();

    public double Threshold { get; init; } = GatePolicy.Never;

    [JsonIgnore]
    public GateCurvePoint Chosen => At(Threshold);

    /// <summary>The curve's point at <paramref name="threshold"/> (computed on these inputs when not on the grid).</summary>
    public GateCurvePoint At(double threshold) =>
        Curve.FirstOrDefault(p => p.Threshold == threshold) ?? throw new ArgumentException($"threshold {threshold} is not on the curve");

    /// <summary>The cheapest curve point whose top-1 is at least <paramref name="top1"/> (null when none reaches it).</summary>
    public GateCurvePoint? CheapestReaching(double top1) =>
        Curve.Where(p => p.Top1 >= top1 - 1e-12).OrderBy(p => p.MeanBytes).FirstOrDefault();

    /// <param name="outcomes">each input's calibration run over the ladder</param>
    /// <param name="scores">the gate's scores per input (one per configuration)</param>
    /// <param name="maxLoss">top-1 (fraction) the chosen threshold may lose against the best static configuration</param>
    /// <param name="ceiling">the most expensive configuration allowed (-1: the last)</param>
    public static GateEvaluation Compute(IReadOnlyList<GateOutcome> outcomes, IReadOnlyList<float[]> scores, double maxLoss = 0,
        IReadOnlyList<double>? thresholds = null, int ceiling = -1)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        ArgumentNullException.ThrowIfNull(scores);
        if (outcomes.Count == 0) throw new ArgumentException("no inputs to evaluate a gate on");
        if (scores.Count != outcomes.Count) throw new ArgumentException($"{scores.Count} gate scores for {outcomes.Count} inputs");
        if (!(maxLoss is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(maxLoss), maxLoss, "the loss is a fraction in [0, 1]");
        int k = outcomes[0].Configurations;
        if (outcomes.Any(o => o.Configurations != k) || scores.Any(s => s.Length != k)) throw new ArgumentException("every input needs one entry per configuration");
        thresholds ??= DefaultThresholds;
        var statics = Enumerable.Range(0, k).Select(c => Tally($"static {c}", double.NaN, outcomes, _ => c)).ToList();
        var oracle = Tally("oracle", double.NaN, outcomes, i => outcomes[i].CheapestAgreeing);
        var curve = thresholds.Append(GatePolicy.Never).Distinct().Order()
            .Select(t => Tally("gate", t, outcomes, i => GatePolicy.Choose(scores[i], t, ceiling))).ToList();
        double best = statics.Max(p => p.Top1);
        var chosen = curve.Where(p => p.Top1 >= best - maxLoss - 1e-12).OrderBy(p => p.MeanBytes).ThenByDescending(p => p.Top1).FirstOrDefault() ?? curve[^1];
        return new GateEvaluation { Inputs = outcomes.Count, MaxLoss = maxLoss, Static = statics, Oracle = oracle, Curve = curve, Threshold = chosen.Threshold };
    }

    private static GateCurvePoint Tally(string name, double threshold, IReadOnlyList<GateOutcome> outcomes, Func<int, int> choose)
    {
        var counts = new int[outcomes[0].Configurations];
        long bytes = 0;
        int right = 0, agreed = 0;
        for (int i = 0; i < outcomes.Count; i++)
        {
            int c = choose(i);
            counts[c]++;
            bytes += outcomes[i].Bytes[c];
            if (outcomes[i].Correct[c]) right++;
            if (outcomes[i].Agrees[c]) agreed++;
        }
        double n = outcomes.Count;
        return new GateCurvePoint { Name = name, Threshold = threshold, Inputs = outcomes.Count, MeanBytes = bytes / n, Top1 = right / n, Agreement = agreed / n, Chosen = counts };
    }
}
