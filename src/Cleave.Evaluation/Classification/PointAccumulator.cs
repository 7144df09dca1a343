using Cleave.Models.Preprocessing;

namespace Cleave.Evaluation.Classification;

/// <summary>Running totals for one operating point while a sweep walks the images.</summary>
internal sealed class PointAccumulator(string kind, string? split, string codec, string family, double float32Bytes, long headParams, long headMacs)
{
    private readonly List<double> _sizes = [];
    private int _top1, _top5, _agree;
    private double _kl, _headMs, _encodeMs, _decodeMs, _tailMs;

    /// <summary>The split folder's early exit at this point, when it has one and the evaluation runs it.</summary>
    public ExitTally? Exit { get; init; }

    /// <summary>Scores one image's output against its label and the unsplit model's output; true when its top-1 is right.</summary>
    public bool Add(ReadOnlySpan<float> scores, ReadOnlySpan<float> reference, int referenceTop1, int classIndex, double bytes,
        double headMs, double encodeMs, double decodeMs, double tailMs)
    {
        int label = ImageNetSample.OutputIndex(classIndex, scores.Length);
        var best = ImageNetSample.TopK(scores, 5);
        bool right = best[0] == label;
        if (right) _top1++;
        if (Array.IndexOf(best, label) >= 0) _top5++;
        if (best[0] == referenceTop1) _agree++;
        _kl += SplitClassificationEval.KlDivergence(reference, scores);
        _sizes.Add(bytes);
        _headMs += headMs;
        _encodeMs += encodeMs;
        _decodeMs += decodeMs;
        _tailMs += tailMs;
        return right;
    }

    public OperatingPoint ToPoint()
    {
        int n = _sizes.Count;
        double d = Math.Max(1, n);
        var sorted = _sizes.ToArray();
        Array.Sort(sorted);
        double mean = 0;
        foreach (double s in sorted) mean += s;
        return new OperatingPoint
        {
            Kind = kind, Split = split, Codec = codec, Family = family, Images = n,
            Top1 = _top1 / d, Top5 = _top5 / d, Agreement = _agree / d, MeanKl = _kl / d,
            BytesMean = mean / d, BytesP95 = Percentile(sorted, 0.95), Float32Bytes = float32Bytes,
            HeadParams = headParams, HeadMacs = headMacs,
            HeadMs = _headMs / d, EncodeMs = _encodeMs / d, DecodeMs = _decodeMs / d, TailMs = _tailMs / d,
            Exit = Exit?.ToResult(),
        };
    }

    /// <summary>Nearest-rank percentile of sorted values (the smallest value with at least q of the values at or below it).</summary>
    public static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
}
