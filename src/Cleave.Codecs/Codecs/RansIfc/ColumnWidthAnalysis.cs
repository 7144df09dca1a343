using System.Buffers;
using Cleave.Codecs.Entropy;

namespace Cleave.Codecs;

/// <summary>One reshape width: the cost model's predicted payload parts beside the parts measured by coding them.</summary>
public sealed record ColumnWidthTrial(int Columns, CsrSize Predicted, CsrSize Actual)
{
    /// <summary>(predicted - actual) / actual of the payload.</summary>
    public double RelativeError => Actual.Total == 0 ? 0 : (Predicted.Total - Actual.Total) / Actual.Total;
}

/// <summary>
/// The cost model of <see cref="RansIfcCodec"/> laid open for one tensor: every candidate width N (and the dense
/// layout) with predicted and actual sizes, the encoder's choice and the exhaustively best width.
/// </summary>
public sealed record ColumnWidthAnalysis(
    int Elements, int Foreground, int Background, ColumnWidthTrial Dense, IReadOnlyList<ColumnWidthTrial> Widths,
    RansIfcLayout ChosenLayout, int ChosenColumns, int BestColumns)
{
    /// <summary>The trial the encoder picked (the dense one when it falls back).</summary>
    public ColumnWidthTrial Chosen => ChosenLayout == RansIfcLayout.Dense ? Dense : Widths.First(w => w.Columns == ChosenColumns);

    /// <summary>The smallest actual payload among all widths and the dense layout.</summary>
    public ColumnWidthTrial Best
    {
        get
        {
            var best = Widths.First(w => w.Columns == BestColumns);
            return Dense.Actual.Total < best.Actual.Total ? Dense : best;
        }
    }

    /// <summary>
    /// Predicts and codes every candidate width (the encoder's list, or <paramref name="widths"/> plus the encoder's
    /// choice) for these values.
    /// Coding each width makes this far slower than encoding: it is a study tool (<c>cleave codec ncols</c>, tests).
    /// </summary>
    public static ColumnWidthAnalysis Run(RansIfcCodec codec, ReadOnlySpan<float> values, TensorShape shape, IReadOnlyList<int>? widths = null)
    {
        ArgumentNullException.ThrowIfNull(codec);
        if (values.Length != shape.ElementCount)
            throw new ArgumentException($"{values.Length} values do not fill shape {shape} ({shape.ElementCount} elements)");
        if (values.Length == 0) throw new ArgumentException("an empty tensor has no layout to study");
        var grid = codec.FitParameters(values);
        var symbols = ArrayPool<ushort>.Shared.Rent(values.Length);
        try
        {
            var span = symbols.AsSpan(0, values.Length);
            RansIfcQuantization.Quantize(values, grid, codec.Levels, span);
            var stats = SymbolStatistics.Gather(span, codec.Levels, SymbolStatistics.ZeroSymbol(grid, codec.Levels));
            using var model = new ColumnWidthCostModel(stats, codec.Levels);
            var writer = new ArrayBufferWriter<byte>();

            writer.ResetWrittenCount();
            RansCoder.Encode(span, codec.Levels, writer);
            var dense = new ColumnWidthTrial(0, model.PredictDense(),
                new CsrSize(0, ColumnWidthCostModel.CommonHeaderBytes, 0, 0, writer.WrittenCount));

            var trials = new List<ColumnWidthTrial>();
            foreach (int n in widths ?? ColumnWidthCostModel.Candidates(shape))
            {
                if (n is < 1 or > CsrStreams.MaxColumns)
                    throw new ArgumentOutOfRangeException(nameof(widths), n, $"widths must be 1..{CsrStreams.MaxColumns}");
                trials.Add(new ColumnWidthTrial(n, model.PredictCsr(n), MeasureCsr(codec, span, stats, n, writer)));
            }
            var (layout, chosen) = codec.Choose(stats, shape);
            if (layout == RansIfcLayout.Csr && !trials.Exists(t => t.Columns == chosen)) // the caller's list left it out
                trials.Add(new ColumnWidthTrial(chosen, model.PredictCsr(chosen), MeasureCsr(codec, span, stats, chosen, writer)));
            int best = trials.MinBy(t => t.Actual.Total)!.Columns;
            return new ColumnWidthAnalysis(values.Length, stats.Foreground, stats.Background, dense, trials, layout, chosen, best);
        }
        finally { ArrayPool<ushort>.Shared.Return(symbols); }
    }

    private static CsrSize MeasureCsr(RansIfcCodec codec, ReadOnlySpan<ushort> symbols, SymbolStatistics stats, int columns, ArrayBufferWriter<byte> writer)
    {
        using var streams = CsrStreams.Build(symbols, stats.Background, stats.Foreground, columns);
        int Coded(ReadOnlySpan<ushort> stream, int alphabet)
        {
            if (stream.IsEmpty) return 0;
            writer.ResetWrittenCount();
            RansCoder.Encode(stream, alphabet, writer);
            return writer.WrittenCount;
        }
        return new CsrSize(columns, ColumnWidthCostModel.CommonHeaderBytes + ColumnWidthCostModel.CsrHeaderBytes,
            Coded(streams.RowCounts, columns + 1), Coded(streams.ColumnGaps, columns), Coded(streams.Values, codec.Levels));
    }
}
