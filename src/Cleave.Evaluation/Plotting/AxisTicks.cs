namespace Cleave.Evaluation.Plotting;

/// <summary>Round-number tick values for a chart axis (PNG and SVG charts alike).</summary>
internal static class AxisTicks
{
    /// <summary>About six ticks at 1, 2 or 5 times a power of ten between <paramref name="lo"/> and <paramref name="hi"/>.</summary>
    public static IEnumerable<double> Linear(double lo, double hi)
    {
        double raw = (hi - lo) / 6;
        if (!(raw > 0)) yield break;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = magnitude * (raw / magnitude < 1.5 ? 1 : raw / magnitude < 3.5 ? 2 : raw / magnitude < 7.5 ? 5 : 10);
        for (double t = Math.Ceiling(lo / step) * step; t <= hi + 1e-9 * step; t += step)
            yield return Math.Abs(t) < step * 1e-9 ? 0 : t;
    }

    /// <summary>Values (not logs) for a log10 axis spanning decades <paramref name="lo"/>..<paramref name="hi"/>: fewer mantissas the more decades.</summary>
    public static IEnumerable<double> Log(double lo, double hi)
    {
        double decades = hi - lo;
        double[] mantissas = decades > 4 ? [1] : decades > 1.5 ? [1, 3] : [1, 2, 5];
        for (int e = (int)Math.Floor(lo); e <= (int)Math.Ceiling(hi); e++)
            foreach (double m in mantissas)
            {
                double v = m * Math.Pow(10, e);
                double l = Math.Log10(v);
                if (l >= lo && l <= hi) yield return v;
            }
    }
}
