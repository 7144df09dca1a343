namespace Cleave.Models.Gating;

/// <summary>
/// How a gate's scores become a choice. The gate scores, per input, which configuration of a ladder (cheapest first)
/// is the cheapest whose answer still agrees with the full model; read as a distribution, the running sum up to
/// configuration k estimates the chance that configuration k (or a cheaper one) already agrees. The device takes the
/// cheapest k whose running sum reaches the threshold, so the threshold is the margin that trades bytes for accuracy:
/// 0 always sends the cheapest setting, a threshold above 1 always the most expensive one allowed. The ceiling is the
/// link's share of the decision (<c>plan adapt</c>'s budget): the gate never picks a configuration above it.
/// </summary>
public static class GatePolicy
{
    /// <summary>A threshold no running sum reaches: the most expensive configuration allowed is always taken.</summary>
    public const double Never = 1.01;

    /// <param name="scores">the gate's raw scores (logits), one per configuration, cheapest first</param>
    /// <param name="threshold">the margin in [0, 1]; above 1 = always the ceiling</param>
    /// <param name="ceiling">the most expensive configuration allowed (index), e.g. from the link's byte budget; -1 = the last</param>
    public static int Choose(ReadOnlySpan<float> scores, double threshold, int ceiling = -1)
    {
        if (scores.Length == 0) throw new ArgumentException("a gate scores at least one configuration", nameof(scores));
        if (double.IsNaN(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "the threshold is not a number");
        int last = ceiling < 0 ? scores.Length - 1 : Math.Min(ceiling, scores.Length - 1);
        // Softmax with the maximum subtracted; NaN scores (a broken gate) count as impossible, so the choice stays defined.
        float max = float.NegativeInfinity;
        foreach (float s in scores) if (s > max) max = s;
        if (float.IsNegativeInfinity(max) || float.IsNaN(max)) return last;
        double total = 0;
        foreach (float s in scores) total += float.IsNaN(s) ? 0 : Math.Exp(s - max);
        double running = 0;
        for (int k = 0; k < last; k++)
        {
            running += float.IsNaN(scores[k]) ? 0 : Math.Exp(scores[k] - max) / total;
            if (running >= threshold) return k;
        }
        return last;
    }
}
