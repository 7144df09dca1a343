using System.Buffers;

namespace Cleave.Codecs;

/// <summary>
/// Predicts the CSR payload size for a reshape width N from <see cref="SymbolStatistics"/> alone, in O(N) per width,
/// so the encoder can try every candidate before building any stream:
/// <list type="bullet">
/// <item>values: the exact foreground histogram (the same for every N);</item>
/// <item>row counts: R = ceil(n / N) rows, each count Binomial(N, p) with p the foreground fraction (positions treated
/// as independent);</item>
/// <item>column gaps: derived from the measured background runs of the flattened tensor: a foreground symbol behind a
/// run of g sits at a column c that is taken as uniform on 0..N-1, and its gap is min(g, c), so
/// P(gap = h) = P(run = h)·(N - h)/N + P(run &gt; h)/N.</item>
/// </list>
/// Each expected histogram goes through the coder's own table precision choice and size estimate (<see cref="RansBlockSize"/>).
/// Where positions cluster (real feature maps), the binomial count model overestimates nothing but misses the savings
/// in row counts; `cleave codec ncols` prints predicted against actual sizes to show how far off it is.
/// </summary>
internal sealed class ColumnWidthCostModel(SymbolStatistics stats, int levels) : IDisposable
{
    private readonly double _valueBytes = PredictValues(stats, levels);

    // Pooled scratch for the expected histograms, shared by every width this model predicts (the encoder tries ~15).
    private int[] _histogram = ArrayPool<int>.Shared.Rent(CsrStreams.MaxColumns + 1);
    private double[] _weights = ArrayPool<double>.Shared.Rent(CsrStreams.MaxColumns + 1);

    public void Dispose()
    {
        if (_histogram.Length > 0) ArrayPool<int>.Shared.Return(_histogram);
        if (_weights.Length > 0) ArrayPool<double>.Shared.Return(_weights);
        _histogram = [];
        _weights = [];
    }

    /// <summary>Bytes of the CSR header after the layout byte and grid: N (u16), background (u16), value count (u32).</summary>
    public const int CsrHeaderBytes = 8;

    /// <summary>Layout byte + scale (f32) + zero point (i32).</summary>
    public const int CommonHeaderBytes = 9;

    /// <summary>
    /// Widths worth trying: powers of two up to 2048, plus products of the tensor's trailing dimensions (a row of W, a
    /// plane of H·W) up to <see cref="CsrStreams.MaxColumns"/>, in increasing order.
    /// </summary>
    public static int[] Candidates(TensorShape shape)
    {
        var widths = new SortedSet<int>();
        for (int n = 1; n <= 2048; n *= 2) widths.Add(n);
        long product = 1;
        for (int axis = shape.Rank - 1; axis >= 0; axis--)
        {
            product *= shape[axis];
            if (product > CsrStreams.MaxColumns) break;
            if (product > 1) widths.Add((int)product);
        }
        return [.. widths];
    }

    public CsrSize PredictDense() =>
        new(0, CommonHeaderBytes, 0, 0, RansBlockSize.Predict(RansBlockSize.Trim(stats.Histogram), levels, stats.Count));

    public CsrSize PredictCsr(int columns)
    {
        int rows = CsrStreams.RowsFor(stats.Count, columns);
        double p = stats.Count == 0 ? 0 : (double)stats.Foreground / stats.Count;
        double countBytes = RansBlockSize.Predict(RansBlockSize.Trim(ExpectedRowCounts(rows, columns, p)), columns + 1, rows);
        double gapBytes = stats.Foreground == 0 ? 0
            : RansBlockSize.Predict(RansBlockSize.Trim(ExpectedGaps(columns)), columns, stats.Foreground);
        return new CsrSize(columns, CommonHeaderBytes + CsrHeaderBytes, countBytes, gapBytes, _valueBytes);
    }

    private static double PredictValues(SymbolStatistics stats, int levels)
    {
        if (stats.Foreground == 0) return 0;
        var foreground = (int[])stats.Histogram.Clone();
        foreground[stats.Background] = 0;
        return RansBlockSize.Predict(RansBlockSize.Trim(foreground), levels, stats.Foreground);
    }

    /// <summary>
    /// rows · Binomial(N, p) pmf, rounded to whole rows. Computed outwards from the mode with the ratio
    /// pmf(k+1)/pmf(k) = (N-k)/(k+1) · p/(1-p) and normalized at the end, so only the counts that matter are visited.
    /// </summary>
    private Span<int> ExpectedRowCounts(int rows, int columns, double p)
    {
        var histogram = _histogram.AsSpan(0, columns + 1);
        histogram.Clear();
        if (p <= 0 || p >= 1)
        {
            histogram[p <= 0 ? 0 : columns] = rows;
            return histogram;
        }
        int mode = Math.Min(columns, (int)((columns + 1) * p));
        double odds = p / (1 - p), cutoff = 1e-3 / rows; // relative weight below which the expected count rounds to 0
        var weights = _weights;
        double total = weights[mode] = 1;
        int lo = mode, hi = mode;
        for (double w = 1; hi < columns && (w *= (columns - hi) / (hi + 1.0) * odds) > cutoff; ) total += weights[++hi] = w;
        for (double w = 1; lo > 0 && (w *= lo / (columns - lo + 1.0) / odds) > cutoff; ) total += weights[--lo] = w;
        for (int k = lo; k <= hi; k++) histogram[k] = (int)Math.Round(rows * weights[k] / total);
        if (histogram[mode] == 0) histogram[mode] = 1;
        return histogram;
    }

    /// <summary>Expected gap histogram for width N from the flattened run histogram (uniform column assumption).</summary>
    private Span<int> ExpectedGaps(int columns)
    {
        var runs = stats.Runs;
        var histogram = _histogram.AsSpan(0, columns);
        histogram.Clear();
        double longer = stats.Foreground; // foreground symbols whose run is > h, updated as h grows
        int mode = 0;
        // Past the longest run nothing is left to place: stop there instead of walking all N gaps.
        int end = Math.Min(columns, stats.LongestRun + 1);
        for (int h = 0; h < end; h++)
        {
            longer -= runs[h];
            double expected = runs[h] * (double)(columns - h) / columns + longer / columns;
            histogram[h] = (int)Math.Round(expected);
            if (histogram[h] > histogram[mode]) mode = h;
        }
        if (histogram[mode] == 0) histogram[0] = 1;
        return histogram;
    }
}
