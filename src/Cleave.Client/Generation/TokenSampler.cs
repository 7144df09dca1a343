using Cleave.Models.Text;

namespace Cleave.Runtime.Generation;

/// <summary>
/// Draws the next token from logits. The random number for position p comes from (seed, p) alone (SplitMix64), so a
/// server and a client sampling the same logits agree, and a resumed session draws what it would have drawn.
/// </summary>
public static class TokenSampler
{
    public static int Sample(ReadOnlySpan<float> logits, SamplingSettings settings, int position)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (logits.IsEmpty) throw new ArgumentException("no logits to sample from", nameof(logits));
        if (settings.IsGreedy) return TextScore.ArgMax(logits);
        int k = settings.TopK <= 0 || settings.TopK > logits.Length ? logits.Length : settings.TopK;
        var candidates = TopIndices(logits, k);
        var values = logits.ToArray();
        return SampleAmong(candidates, i => values[i], settings, position);
    }

    /// <summary>Samples among (token, logit) pairs already cut to the top ones (client-side sampling).</summary>
    public static int Sample(IReadOnlyList<(int Token, float Logit)> top, SamplingSettings settings, int position)
    {
        ArgumentNullException.ThrowIfNull(top);
        ArgumentNullException.ThrowIfNull(settings);
        if (top.Count == 0) throw new ArgumentException("no logits to sample from", nameof(top));
        int best = 0;
        for (int i = 1; i < top.Count; i++)
            if (top[i].Logit > top[best].Logit || (top[i].Logit == top[best].Logit && top[i].Token < top[best].Token)) best = i;
        if (settings.IsGreedy) return top[best].Token;
        int k = settings.TopK <= 0 || settings.TopK > top.Count ? top.Count : settings.TopK;
        var order = new int[top.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (a, b) => top[b].Logit != top[a].Logit ? top[b].Logit.CompareTo(top[a].Logit) : top[a].Token.CompareTo(top[b].Token));
        int index = SampleAmong(order.AsSpan(0, k).ToArray(), i => top[i].Logit, settings, position);
        return top[index].Token;
    }

    private static int SampleAmong(int[] candidates, Func<int, float> logitOf, SamplingSettings settings, int position)
    {
        double max = double.NegativeInfinity;
        foreach (int c in candidates) max = Math.Max(max, logitOf(c));
        var weights = new double[candidates.Length];
        double total = 0;
        for (int i = 0; i < candidates.Length; i++) total += weights[i] = Math.Exp((logitOf(candidates[i]) - max) / settings.Temperature);
        double u = UniformDouble(settings.Seed, position) * total;
        for (int i = 0; i < candidates.Length; i++)
        {
            u -= weights[i];
            if (u < 0) return candidates[i];
        }
        return candidates[^1];
    }

    /// <summary>The <paramref name="count"/> largest logits, largest first (ties: the smaller token first).</summary>
    public static (int Token, float Logit)[] TopLogits(ReadOnlySpan<float> logits, int count)
    {
        var indices = TopIndices(logits, Math.Min(count, logits.Length));
        var result = new (int, float)[indices.Length];
        for (int i = 0; i < indices.Length; i++) result[i] = (indices[i], logits[indices[i]]);
        return result;
    }

    private static int[] TopIndices(ReadOnlySpan<float> logits, int k)
    {
        var values = logits.ToArray();
        var order = new int[values.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (a, b) => values[a] != values[b] ? values[b].CompareTo(values[a]) : a.CompareTo(b));
        return order[..k];
    }

    /// <summary>A uniform double in [0, 1) from (seed, position): SplitMix64 of the pair.</summary>
    public static double UniformDouble(ulong seed, int position)
    {
        ulong z = seed + 0x9E3779B97F4A7C15UL * (ulong)(position + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }
}
