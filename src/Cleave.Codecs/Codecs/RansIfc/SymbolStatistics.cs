namespace Cleave.Codecs;

/// <summary>
/// What the column-width cost model knows about a quantized tensor, gathered in two passes over its symbols: the
/// symbol histogram, the background symbol (the most frequent one) and the histogram of background runs in front of
/// every other symbol in the flattened tensor.
/// </summary>
internal sealed class SymbolStatistics
{
    /// <summary>Runs this long or longer share the last bucket: no row is that wide, so their length never matters.</summary>
    public const int RunBuckets = CsrStreams.MaxColumns + 1;

    private SymbolStatistics(int count, int[] histogram, int background, int foreground, long[] runs)
    {
        Count = count;
        Histogram = histogram;
        Background = background;
        Foreground = foreground;
        Runs = runs;
    }

    public int Count { get; }

    /// <summary>Occurrences of each symbol 0..L-1.</summary>
    public int[] Histogram { get; }

    /// <summary>The most frequent symbol (the zero point's symbol on ReLU outputs); the lowest one on ties.</summary>
    public int Background { get; }

    /// <summary>Symbols that differ from the background (the CSR's non-zeros).</summary>
    public int Foreground { get; }

    /// <summary>Runs[g]: foreground symbols preceded by exactly g background symbols (the last bucket: g &gt;= MaxColumns).</summary>
    public long[] Runs { get; }

    public static SymbolStatistics Gather(ReadOnlySpan<ushort> symbols, int levels)
    {
        var histogram = new int[levels];
        foreach (ushort s in symbols) histogram[s]++;
        int background = 0;
        for (int s = 1; s < levels; s++) if (histogram[s] > histogram[background]) background = s;

        var runs = new long[RunBuckets];
        int last = -1;
        ushort b = (ushort)background;
        for (int i = 0; i < symbols.Length; i++)
        {
            if (symbols[i] == b) continue;
            runs[Math.Min(i - last - 1, RunBuckets - 1)]++;
            last = i;
        }
        return new SymbolStatistics(symbols.Length, histogram, background, symbols.Length - histogram[background], runs);
    }
}
