namespace Cleave.Evaluation.Sentences;

/// <summary>
/// Spearman's rank correlation: the Pearson correlation of the two samples' ranks, tied values sharing the mean of
/// the ranks they span (as scipy.stats.spearmanr does), so it is exact with ties too.
/// </summary>
public static class SpearmanCorrelation
{
    public static double Compute(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (x.Length != y.Length) throw new ArgumentException($"samples differ in length: {x.Length} and {y.Length}");
        if (x.Length < 2) throw new ArgumentException($"a rank correlation needs at least 2 pairs, got {x.Length}");
        return Pearson(Ranks(x), Ranks(y));
    }

    /// <summary>1-based ranks; a group of equal values gets the mean of its ranks. NaN is refused.</summary>
    public static double[] Ranks(ReadOnlySpan<double> values)
    {
        var order = new int[values.Length];
        var keys = values.ToArray();
        for (int i = 0; i < order.Length; i++)
        {
            if (double.IsNaN(keys[i])) throw new ArgumentException($"value {i} is NaN");
            order[i] = i;
        }
        Array.Sort(keys, order);
        var ranks = new double[values.Length];
        for (int start = 0; start < keys.Length;)
        {
            int end = start + 1;
            while (end < keys.Length && keys[end] == keys[start]) end++;
            double shared = (start + 1 + end) / 2.0; // mean of the 1-based ranks start+1 .. end
            for (int k = start; k < end; k++) ranks[order[k]] = shared;
            start = end;
        }
        return ranks;
    }

    /// <summary>Pearson's r; 0 when either sample is constant (no ordering to agree with).</summary>
    public static double Pearson(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (x.Length != y.Length) throw new ArgumentException($"samples differ in length: {x.Length} and {y.Length}");
        double meanX = 0, meanY = 0;
        for (int i = 0; i < x.Length; i++) { meanX += x[i]; meanY += y[i]; }
        meanX /= x.Length;
        meanY /= y.Length;
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double dx = x[i] - meanX, dy = y[i] - meanY;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        return sxx == 0 || syy == 0 ? 0 : sxy / Math.Sqrt(sxx * syy);
    }
}
