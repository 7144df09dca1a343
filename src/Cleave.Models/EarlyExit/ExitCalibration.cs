namespace Cleave.Models.EarlyExit;

/// <summary>
/// The calibration curve of an exit head: exit rate and overall accuracy for each threshold on held-out images, and
/// the threshold chosen from it (the lowest one whose overall accuracy stays within <see cref="MaxLoss"/> of never
/// exiting). An image exits when its confidence is at least the threshold; a threshold above 1 never exits.
/// </summary>
public sealed record ExitCalibration
{
    /// <summary>Thresholds the curve is computed at: 0, 0.05 ... 0.95 in steps of 0.05, then finer towards 1 where confident exits sit.</summary>
    public static IReadOnlyList<double> DefaultThresholds { get; } =
        [.. Enumerable.Range(0, 19).Select(i => i * 0.05), .. Enumerable.Range(0, 10).Select(i => 0.95 + i * 0.005), 0.9975, 0.999, 0.9995, 1.0];

    /// <summary>Threshold that never exits (confidences are at most 1).</summary>
    public const double Never = 1.01;

    public int Images { get; init; }

    /// <summary>Whether accuracy is against labels (true) or against the full model's answers.</summary>
    public bool Labelled { get; init; }

    /// <summary>Overall accuracy when nothing exits (the full model alone).</summary>
    public double FullAccuracy { get; init; }

    /// <summary>Largest overall loss (fraction, 0.01 = 1 point) the chosen threshold may cost.</summary>
    public double MaxLoss { get; init; }

    public double Threshold { get; init; } = Never;
    public IReadOnlyList<ExitCurvePoint> Points { get; init; } = [];

    /// <summary>The point of the chosen threshold (computed on the same images).</summary>
    public ExitCurvePoint Chosen => Points.FirstOrDefault(p => p.Threshold == Threshold) ?? new ExitCurvePoint { Threshold = Threshold, Images = Images, SentCorrect = (int)Math.Round(FullAccuracy * Images), Agreed = Images };

    /// <summary>The curve on <paramref name="samples"/>, and the lowest threshold within <paramref name="maxLoss"/> of the full model.</summary>
    public static ExitCalibration Compute(IReadOnlyList<ExitSample> samples, double maxLoss, IReadOnlyList<double>? thresholds = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (!(maxLoss >= 0 && maxLoss <= 1)) throw new ArgumentOutOfRangeException(nameof(maxLoss), maxLoss, "the loss is a fraction in [0, 1]");
        thresholds ??= DefaultThresholds;
        bool labelled = samples.Count > 0 && samples.All(s => s.Label >= 0);
        int Truth(ExitSample s) => labelled ? s.Label : s.FullTop1;
        int fullCorrect = samples.Count(s => s.FullTop1 == Truth(s));
        double full = samples.Count == 0 ? 0 : (double)fullCorrect / samples.Count;

        var points = new List<ExitCurvePoint>(thresholds.Count + 1);
        foreach (double t in thresholds.Append(Never).Distinct().Order())
        {
            int exited = 0, exitCorrect = 0, sentCorrect = 0, agreed = 0;
            foreach (var s in samples)
            {
                if (s.Confidence >= t)
                {
                    exited++;
                    if (s.ExitTop1 == Truth(s)) exitCorrect++;
                    if (s.ExitTop1 == s.FullTop1) agreed++;
                }
                else
                {
                    if (s.FullTop1 == Truth(s)) sentCorrect++;
                    agreed++;
                }
            }
            points.Add(new ExitCurvePoint { Threshold = t, Images = samples.Count, Exited = exited, ExitCorrect = exitCorrect, SentCorrect = sentCorrect, Agreed = agreed });
        }
        // Lowest threshold whose accuracy is within the allowed loss; accuracy is not monotone in the threshold on a
        // finite set, so every higher threshold is not required to pass too: the chosen point is judged on its own.
        double chosen = Never;
        foreach (var p in points)
            if (p.Accuracy >= full - maxLoss - 1e-12) { chosen = p.Threshold; break; }
        return new ExitCalibration { Images = samples.Count, Labelled = labelled, FullAccuracy = full, MaxLoss = maxLoss, Threshold = chosen, Points = points };
    }

    /// <summary>The curve point for another threshold on the same images (the nearest computed point at or above it).</summary>
    public ExitCurvePoint At(double threshold) =>
        Points.Where(p => p.Threshold >= threshold).MinBy(p => p.Threshold) ?? Points[^1];
}
