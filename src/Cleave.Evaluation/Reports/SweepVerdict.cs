using System.Globalization;
using Cleave.Evaluation.Classification;

namespace Cleave.Evaluation.Reports;

/// <summary>
/// The questions a sweep answers, computed from its results. A candidate is the fewest-bytes codec (other than raw)
/// within <see cref="Tolerance"/> of the unsplit top-1. For the best candidate overall and the best one whose device
/// share of the MACs is at most <see cref="DeviceShareBudget"/> (SC2: little computation on the device), it asks:
/// does it send at least <see cref="TargetCompression"/>x fewer bytes than the float32 tensor at its split, and fewer
/// bytes than each image-offload baseline at equal or better top-1? It also gives the best candidate per split.
/// <see cref="Sentences"/> is the verdict, best points first, ending with what the targets mean; the per-split
/// sentences are apart (<see cref="PerSplitSentences"/>) so the verdict stays short.
/// </summary>
public sealed record SweepVerdict
{
    public const double Tolerance = 0.01;
    public const double TargetCompression = 20;
    public const double DeviceShareBudget = 0.5;

    public double FullTop1 { get; init; }

    /// <summary>Fewest-bytes non-raw split point within the tolerance, at any split; null when none is.</summary>
    public OperatingPoint? BestSplit { get; init; }

    /// <summary>The same, among splits whose head runs at most <see cref="DeviceShareBudget"/> of the model's MACs.</summary>
    public OperatingPoint? BestLightDevice { get; init; }

    /// <summary>Per split (in sweep order): its fewest-bytes codec within the tolerance, or null.</summary>
    public IReadOnlyList<(string Split, OperatingPoint? Best)> PerSplit { get; init; } = [];

    public bool WithinTolerance => BestSplit is not null;
    public bool MeetsCompression => BestSplit is not null && BestSplit.CompressionVsFloat32 >= TargetCompression;

    /// <summary>Per image-offload kind (jpeg, webp): whether <see cref="BestSplit"/> sends fewer bytes than every baseline of that kind at equal or better top-1.</summary>
    public IReadOnlyDictionary<string, bool> BeatsOffload { get; init; } = new Dictionary<string, bool>();

    /// <summary>Per image-offload kind: the cheapest baseline within the tolerance of the unsplit model (null: none).</summary>
    public IReadOnlyDictionary<string, OperatingPoint?> OffloadWithinTolerance { get; init; } = new Dictionary<string, OperatingPoint?>();

    public IReadOnlyList<string> Sentences { get; init; } = [];

    /// <summary>One sentence per split: its cheapest codec within the tolerance, or that none is.</summary>
    public IReadOnlyList<string> PerSplitSentences { get; init; } = [];

    /// <summary>What the verdict's targets are and where they come from (the last sentence of <see cref="Sentences"/>).</summary>
    public static string TargetsExplained { get; } =
        $"Targets: \"{TargetCompression:0}x\" is Cleave's goal for a codec without retraining: send at least {TargetCompression:0}x fewer bytes than " +
        $"the cut tensor as float32 (4 bytes per value, the raw codec) while top-1 stays within {Tolerance * 100:0.#} point of the unsplit model. " +
        "SC2 (Matsubara et al.'s criteria for split computing) asks for little computation on the device, few bytes sent and high accuracy at once, " +
        $"and counts sending a compressed input image (JPEG/WebP offload) as the baseline to beat; \"at most {DeviceShareBudget * 100:0}% of the MACs on the device\" " +
        "is how this verdict reads its first criterion.";

    public static SweepVerdict Compute(SweepResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        double full = result.FullTop1;
        bool Within(OperatingPoint p) => p.Top1 >= full - Tolerance - 1e-12;
        OperatingPoint? Cheapest(IEnumerable<OperatingPoint> points) =>
            points.Where(p => p.IsSplit && p.Codec != "raw" && Within(p)).OrderBy(p => p.BytesMean).ThenByDescending(p => p.Top1).FirstOrDefault();
        double Share(OperatingPoint p) => result.TotalMacs > 0 ? (double)p.HeadMacs / result.TotalMacs : 0;

        var best = Cheapest(result.Points);
        var light = Cheapest(result.Points.Where(p => Share(p) <= DeviceShareBudget));
        var offloadKinds = result.Points.Where(p => p.IsImageOffload).Select(p => p.Kind).Distinct().Order(StringComparer.Ordinal).ToList();
        var sentences = new List<string>();
        var beats = new Dictionary<string, bool>();
        if (best is null)
            sentences.Add($"No Cleave codec at any measured split kept top-1 within {Tolerance * 100:0.#} point of the unsplit model.");
        else
            Judge(best, "Fewest bytes at any split", beats);
        if (light is null)
            sentences.Add($"No Cleave codec at a split running at most {DeviceShareBudget * 100:0}% of the MACs on the device kept top-1 within {Tolerance * 100:0.#} point.");
        else if (!ReferenceEquals(light, best))
            Judge(light, $"Fewest bytes with at most {DeviceShareBudget * 100:0}% of the MACs on the device (SC2)", null, compareOffload: false);
        sentences.Add($"Unsplit model: top-1 {Pct(full)}, top-5 {Pct(result.FullTop5)} on {result.Images} images; {Macs(result.TotalMacs)} per image.");

        var within = new Dictionary<string, OperatingPoint?>();
        var offloadParts = new List<string>();
        foreach (string kind in offloadKinds)
        {
            var p = result.Points.Where(x => x.Kind == kind && Within(x)).OrderBy(x => x.BytesMean).FirstOrDefault();
            within[kind] = p;
            offloadParts.Add(p is null
                ? $"{kind.ToUpperInvariant()}: none measured (most accurate: {Describe(result.Points.Where(x => x.Kind == kind).OrderByDescending(x => x.Top1).ThenBy(x => x.BytesMean).First())})"
                : $"{kind.ToUpperInvariant()}: {Describe(p)}");
        }
        if (offloadParts.Count > 0)
            sentences.Add($"Cheapest image offload within {Tolerance * 100:0.#} point of the unsplit model: {string.Join("; ", offloadParts)}.");

        var meeting = result.Points
            .Where(p => p.IsSplit && p.Codec != "raw" && Within(p) && p.CompressionVsFloat32 >= TargetCompression)
            .GroupBy(p => p.Split!).Select(g => g.OrderBy(p => p.BytesMean).First()).ToList();
        int splitCount = result.Points.Where(p => p.IsSplit).Select(p => p.Split).Distinct().Count();
        sentences.Add(meeting.Count == 0
            ? $"At no measured split does a codec keep top-1 within {Tolerance * 100:0.#} point while sending {TargetCompression:0}x fewer bytes than float32."
            : $"{TargetCompression:0}x fewer bytes than float32 within {Tolerance * 100:0.#} point is reached at {meeting.Count} of {splitCount} splits: " +
              string.Join("; ", meeting.Select(p => $"{OperatingPoint.ShortSplitName(p.Split!)} ({Share(p) * 100:0.#}% of MACs on the device) with {p.Codec}, " +
                  $"{Bytes(p.BytesMean)}, {p.CompressionVsFloat32:0.#}x, top-1 {Pct(p.Top1)}")) + ".");

        sentences.Add(TargetsExplained);

        var perSplit = new List<(string, OperatingPoint?)>();
        var perSplitSentences = new List<string>();
        foreach (var group in result.Points.Where(p => p.IsSplit).GroupBy(p => p.Split!))
        {
            var p = Cheapest(group);
            perSplit.Add((group.Key, p));
            var any = group.First();
            perSplitSentences.Add(p is null
                ? $"Split {OperatingPoint.ShortSplitName(group.Key)} ({Share(any) * 100:0.#}% of MACs on the device): no codec other than raw within {Tolerance * 100:0.#} point."
                : $"Split {OperatingPoint.ShortSplitName(group.Key)} ({Share(p) * 100:0.#}% of MACs on the device): cheapest within {Tolerance * 100:0.#} point is {p.Codec}, " +
                  $"{Bytes(p.BytesMean)} ({p.CompressionVsFloat32:0.#}x vs float32), top-1 {Pct(p.Top1)}.");
        }
        return new SweepVerdict
        {
            FullTop1 = full, BestSplit = best, BestLightDevice = light, PerSplit = perSplit, BeatsOffload = beats,
            OffloadWithinTolerance = within, Sentences = sentences, PerSplitSentences = perSplitSentences,
        };

        void Judge(OperatingPoint point, string title, Dictionary<string, bool>? record, bool compareOffload = true)
        {
            sentences.Add($"{title} within {Tolerance * 100:0.#} point of the unsplit model: {point.Label}: top-1 {Pct(point.Top1)} " +
                $"({Delta(point.Top1 - full)}), {Bytes(point.BytesMean)} per image (p95 {Bytes(point.BytesP95)}), device runs {Macs(point.HeadMacs)} " +
                $"({Share(point) * 100:0.#}% of the model).");
            sentences.Add($"{(point.CompressionVsFloat32 >= TargetCompression ? "MET" : "NOT MET")}: {point.CompressionVsFloat32:0.#}x fewer bytes than the float32 " +
                $"tensor at that split ({Bytes(point.Float32Bytes)}); the target is {TargetCompression:0}x.");
            foreach (string kind in compareOffload ? offloadKinds : [])
            {
                var offload = result.Points.Where(p => p.Kind == kind).ToList();
                string name = kind.ToUpperInvariant();
                var equal = offload.Where(p => p.Top1 >= point.Top1 - 1e-12).OrderBy(p => p.BytesMean).FirstOrDefault();
                bool win = equal is null || point.BytesMean < equal.BytesMean;
                if (record is not null) record[kind] = win;
                if (equal is not null)
                    sentences.Add($"{(win ? "WINS" : "LOSES")} against {name} offload: the cheapest {name} setting at equal or better top-1 is {Describe(equal)}; " +
                        (win ? $"Cleave sends {equal.BytesMean / point.BytesMean:0.##}x fewer bytes." : $"it sends {point.BytesMean / equal.BytesMean:0.##}x fewer bytes than Cleave."));
                else
                {
                    var top = offload.OrderByDescending(p => p.Top1).ThenBy(p => p.BytesMean).First();
                    sentences.Add($"WINS against {name} offload: no measured {name} quality reaches top-1 {Pct(point.Top1)}; the most accurate is {Describe(top)}.");
                }
            }
        }
    }

    private static string Describe(OperatingPoint p) => $"{p.Codec} ({Bytes(p.BytesMean)} per image, top-1 {Pct(p.Top1)})";
    internal static string Pct(double fraction) => (100 * fraction).ToString("0.0", CultureInfo.InvariantCulture) + "%";
    private static string Delta(double fraction) => (100 * fraction).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + " points";
    internal static string Bytes(double b) => b >= 10_000 ? (b / 1000).ToString("0.0", CultureInfo.InvariantCulture) + " KB"
        : b.ToString("0", CultureInfo.InvariantCulture) + " B";
    internal static string Macs(long m) => (m / 1e6).ToString("0.0", CultureInfo.InvariantCulture) + " MMAC";
}
