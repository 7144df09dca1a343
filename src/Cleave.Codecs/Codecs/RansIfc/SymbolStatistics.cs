namespace Cleave.Codecs;

/// <summary>
/// What the column-width cost model knows about a quantized tensor, gathered in one pass over its foreground: the
/// symbol histogram and the histogram of background runs in front of every foreground symbol in the flattened tensor.
/// </summary>
internal sealed class SymbolStatistics
{
    /// <summary>Runs this long or longer share the last bucket: no row is that wide, so their length never matters.</summary>
    public const int RunBuckets = CsrStreams.MaxColumns + 1;

    private SymbolStatistics(int count, int[] histogram, int background, int foreground, int[] runs, int longestRun)
    {
        LongestRun = longestRun;
        Count = count;
        Histogram = histogram;
        Background = background;
        Foreground = foreground;
        Runs = runs;
    }

    public int Count { get; }

    /// <summary>Occurrences of each symbol 0..L-1.</summary>
    public int[] Histogram { get; }

    /// <summary>The zero point's symbol: the one left out of the CSR streams.</summary>
    public int Background { get; }

    /// <summary>Symbols that differ from the background (the CSR's non-zeros).</summary>
    public int Foreground { get; }

    /// <summary>Runs[g]: foreground symbols preceded by exactly g background symbols (the last bucket: g &gt;= MaxColumns).</summary>
    public int[] Runs { get; }

    /// <summary>The longest run in front of a foreground symbol (capped at the last bucket; 0 without foreground).</summary>
    public int LongestRun { get; }

    /// <summary>
    /// One pass over the foreground. The background is the zero point's symbol (clamped to the levels), so that
    /// "foreground" means "not exactly zero" whenever 0 lies in the range; a tensor where another symbol dominates has
    /// no zeros to skip and gets the dense layout anyway.
    /// </summary>
    public static SymbolStatistics Gather(ReadOnlySpan<ushort> symbols, int levels, int background)
    {
        var histogram = new int[levels];
        var runs = new int[RunBuckets];
        int last = -1, foreground = 0, longest = 0;
        var positions = new ForegroundPositions(symbols, (ushort)background);
        while (positions.MoveNext(out int i))
        {
            histogram[symbols[i]]++;
            int run = Math.Min(i - last - 1, RunBuckets - 1);
            runs[run]++;
            if (run > longest) longest = run;
            last = i;
            foreground++;
        }
        histogram[background] = symbols.Length - foreground;
        return new SymbolStatistics(symbols.Length, histogram, background, foreground, runs, longest);
    }

    /// <summary>The symbol that 0 quantizes to (the nearest level when 0 is outside the range).</summary>
    public static int ZeroSymbol(Quantization.QuantizationParameters grid, int levels) => Math.Clamp(grid.ZeroPoint, 0, levels - 1);
}
