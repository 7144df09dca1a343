namespace Cleave.Evaluation.Classification;

/// <summary>Output comparisons shared by the classification evaluations (<see cref="ClassificationSweep"/>).</summary>
public static class SplitClassificationEval
{
    /// <summary>
    /// KL(p || q) of two output vectors: used as probabilities when they already are (non-negative, summing to 1),
    /// else after a softmax (logit outputs). q is floored so a zero cannot give infinity.
    /// </summary>
    public static double KlDivergence(ReadOnlySpan<float> p, ReadOnlySpan<float> q)
    {
        if (!IsDistribution(p) || !IsDistribution(q)) return KlDivergence(Softmax(p), Softmax(q));
        double sum = 0;
        for (int i = 0; i < p.Length; i++)
            if (p[i] > 0) sum += p[i] * Math.Log(p[i] / Math.Max(q[i], 1e-12));
        return Math.Max(0, sum);
    }

    private static bool IsDistribution(ReadOnlySpan<float> v)
    {
        double total = 0;
        foreach (float x in v)
        {
            if (!(x >= 0)) return false;
            total += x;
        }
        return Math.Abs(total - 1) < 1e-3;
    }

    internal static float[] Softmax(ReadOnlySpan<float> v)
    {
        float max = float.NegativeInfinity;
        foreach (float x in v) max = Math.Max(max, x);
        var result = new float[v.Length];
        double total = 0;
        for (int i = 0; i < v.Length; i++) total += result[i] = MathF.Exp(v[i] - max);
        for (int i = 0; i < v.Length; i++) result[i] = (float)(result[i] / total);
        return result;
    }
}
