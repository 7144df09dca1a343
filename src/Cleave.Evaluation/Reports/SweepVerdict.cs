using System.Globalization;
using Cleave.Evaluation.Classification;

namespace Cleave.Evaluation.Reports;

/// <summary>
/// The questions a sweep answers, computed from its results: does the best Cleave codec (fewest bytes among split
/// points within <see cref="Tolerance"/> of the unsplit top-1) send at least <see cref="TargetCompression"/>x fewer
/// bytes than the float32 tensor at its split, and fewer bytes than each image-offload baseline at equal or better top-1?
/// </summary>
public sealed record SweepVerdict
{
    public const double Tolerance = 0.01;
    public const double TargetCompression = 20;

    public double FullTop1 { get; init; }

    /// <summary>Fewest-bytes non-raw split point within the tolerance; null when none is.</summary>
    public OperatingPoint? BestSplit { get; init; }
    public bool WithinTolerance => BestSplit is not null;
    public bool MeetsCompression => BestSplit is not null && BestSplit.CompressionVsFloat32 >= TargetCompression;

    /// <summary>Per image-offload kind (jpeg, webp): the cheapest baseline at equal or better top-1 than <see cref="BestSplit"/> (null: none reaches it).</summary>
    public IReadOnlyDictionary<string, OperatingPoint?> OffloadAtEqualTop1 { get; init; } = new Dictionary<string, OperatingPoint?>();

    /// <summary>Per image-offload kind: the cheapest baseline within the tolerance of the unsplit model (null: none).</summary>
    public IReadOnlyDictionary<string, OperatingPoint?> OffloadWithinTolerance { get; init; } = new Dictionary<string, OperatingPoint?>();

    /// <summary>Per image-offload kind: whether <see cref="BestSplit"/> sends fewer bytes than every baseline of that kind at equal or better top-1.</summary>
    public IReadOnlyDictionary<string, bool> BeatsOffload { get; init; } = new Dictionary<string, bool>();

    public IReadOnlyList<string> Sentences { get; init; } = [];

    public static SweepVerdict Compute(SweepResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        double full = result.FullTop1;
        var best = result.Points
            .Where(p => p.IsSplit && p.Codec != "raw" && p.Top1 >= full - Tolerance - 1e-12)
            .OrderBy(p => p.BytesMean).ThenByDescending(p => p.Top1).FirstOrDefault();
        var atEqual = new Dictionary<string, OperatingPoint?>();
        var within = new Dictionary<string, OperatingPoint?>();
        var beats = new Dictionary<string, bool>();
        var sentences = new List<string>
        {
            $"Unsplit model: top-1 {Pct(full)}, top-5 {Pct(result.FullTop5)} on {result.Images} images; {Macs(result.TotalMacs)} per image.",
        };
        if (best is null)
            sentences.Add($"No Cleave codec at any measured split kept top-1 within {Tolerance * 100:0.#} point of the unsplit model.");
        else
        {
            sentences.Add($"Best Cleave point within {Tolerance * 100:0.#} point of the unsplit model: {best.Label}: top-1 {Pct(best.Top1)} " +
                $"({Delta(best.Top1 - full)}), {Bytes(best.BytesMean)} per image (p95 {Bytes(best.BytesP95)}), device runs {Macs(best.HeadMacs)} " +
                $"({(result.TotalMacs > 0 ? 100.0 * best.HeadMacs / result.TotalMacs : 0):0.#}% of the model).");
            sentences.Add($"{(best.CompressionVsFloat32 >= TargetCompression ? "MET" : "NOT MET")}: {best.CompressionVsFloat32:0.#}x fewer bytes than the float32 " +
                $"tensor at that split ({Bytes(best.Float32Bytes)}); the target is {TargetCompression:0}x.");
        }
        foreach (string kind in result.Points.Where(p => p.IsImageOffload).Select(p => p.Kind).Distinct().Order(StringComparer.Ordinal))
        {
            var offload = result.Points.Where(p => p.Kind == kind).ToList();
            string name = kind.ToUpperInvariant();
            within[kind] = offload.Where(p => p.Top1 >= full - Tolerance - 1e-12).OrderBy(p => p.BytesMean).FirstOrDefault();
            if (best is null) continue;
            var equal = offload.Where(p => p.Top1 >= best.Top1 - 1e-12).OrderBy(p => p.BytesMean).FirstOrDefault();
            atEqual[kind] = equal;
            // With no baseline reaching the split's top-1, compare with the most accurate one measured (it is still worse).
            bool win = equal is null || best.BytesMean < equal.BytesMean;
            beats[kind] = win;
            if (equal is not null)
                sentences.Add($"{(win ? "WINS" : "LOSES")} against {name} offload: at equal or better top-1 the cheapest {name} setting is {equal.Codec} " +
                    $"with {Bytes(equal.BytesMean)} per image at top-1 {Pct(equal.Top1)}; Cleave sends {equal.BytesMean / best.BytesMean:0.##}x " +
                    $"{(win ? "fewer" : "as many")} bytes ({Bytes(best.BytesMean)}).");
            else
            {
                var top = offload.OrderByDescending(p => p.Top1).ThenBy(p => p.BytesMean).First();
                sentences.Add($"WINS against {name} offload: no measured {name} quality reaches top-1 {Pct(best.Top1)}; the most accurate, {top.Codec}, " +
                    $"gets {Pct(top.Top1)} with {Bytes(top.BytesMean)} per image.");
            }
        }
        foreach (var (kind, p) in within)
            sentences.Add(p is null
                ? $"No measured {kind.ToUpperInvariant()} quality stays within {Tolerance * 100:0.#} point of the unsplit model."
                : $"Cheapest {kind.ToUpperInvariant()} offload within {Tolerance * 100:0.#} point of the unsplit model: {p.Codec}, {Bytes(p.BytesMean)} per image, top-1 {Pct(p.Top1)}.");
        return new SweepVerdict
        {
            FullTop1 = full, BestSplit = best, OffloadAtEqualTop1 = atEqual, OffloadWithinTolerance = within, BeatsOffload = beats, Sentences = sentences,
        };
    }

    internal static string Pct(double fraction) => (100 * fraction).ToString("0.0", CultureInfo.InvariantCulture) + "%";
    private static string Delta(double fraction) => (100 * fraction).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + " points";
    internal static string Bytes(double b) => b >= 10_000 ? (b / 1000).ToString("0.0", CultureInfo.InvariantCulture) + " KB"
        : b.ToString("0", CultureInfo.InvariantCulture) + " B";
    internal static string Macs(long m) => (m / 1e6).ToString("0.0", CultureInfo.InvariantCulture) + " MMAC";
}
