namespace Cleave.Evaluation.Classification;

/// <summary>
/// Non-dominated operating points. A point is dominated when another is at least as good in every objective and
/// strictly better in one. Ties (identical objectives) keep the first.
/// </summary>
public static class ParetoFront
{
    /// <summary>Indices of the non-dominated rows; every objective is minimized (negate what should grow).</summary>
    public static IReadOnlyList<int> Indices(IReadOnlyList<double[]> objectives)
    {
        ArgumentNullException.ThrowIfNull(objectives);
        var front = new List<int>();
        for (int i = 0; i < objectives.Count; i++)
        {
            bool dominated = false;
            for (int j = 0; j < objectives.Count && !dominated; j++)
                if (j != i && (Dominates(objectives[j], objectives[i]) || (j < i && objectives[j].AsSpan().SequenceEqual(objectives[i]))))
                    dominated = true;
            if (!dominated) front.Add(i);
        }
        return front;
    }

    /// <summary>
    /// The accuracy-vs-bytes front: points sending something (the local baseline sends nothing and is judged by its
    /// device compute instead), fewest bytes and highest top-1, ordered by bytes.
    /// </summary>
    public static IReadOnlyList<OperatingPoint> AccuracyVsBytes(IReadOnlyList<OperatingPoint> points)
    {
        var sending = points.Where(p => p.BytesMean > 0).ToList();
        return [.. Indices([.. sending.Select(p => new[] { p.BytesMean, -p.Top1 })]).Select(i => sending[i]).OrderBy(p => p.BytesMean)];
    }

    /// <summary>SC2's three objectives at once: device MACs, bytes and top-1 (all points, local included).</summary>
    public static IReadOnlyList<OperatingPoint> ComputeBytesAccuracy(IReadOnlyList<OperatingPoint> points) =>
        [.. Indices([.. points.Select(p => new[] { (double)p.HeadMacs, p.BytesMean, -p.Top1 })]).Select(i => points[i]).OrderBy(p => p.BytesMean)];

    private static bool Dominates(double[] a, double[] b)
    {
        if (a.Length != b.Length) throw new ArgumentException("objective vectors differ in length");
        bool strictly = false;
        for (int k = 0; k < a.Length; k++)
        {
            if (a[k] > b[k]) return false;
            if (a[k] < b[k]) strictly = true;
        }
        return strictly;
    }
}
