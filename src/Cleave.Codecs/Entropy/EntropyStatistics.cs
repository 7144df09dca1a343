namespace Cleave.Codecs.Entropy;

/// <summary>Entropy bounds that coders and reports compare against.</summary>
public static class EntropyStatistics
{
    /// <summary>Order-0 (Shannon) entropy of the symbol stream in bytes: the sum over symbols of -log2(p) / 8.</summary>
    public static double Order0Bytes(ReadOnlySpan<byte> symbols)
    {
        Span<int> counts = stackalloc int[256];
        SymbolHistogram.Count(symbols, 256, counts);
        return BytesFromCounts(counts, symbols.Length);
    }

    /// <summary>Order-0 (Shannon) entropy of the symbol stream in bytes: the sum over symbols of -log2(p) / 8.</summary>
    public static double Order0Bytes(ReadOnlySpan<ushort> symbols)
    {
        var counts = new int[65536];
        foreach (ushort s in symbols) counts[s]++;
        return BytesFromCounts(counts, symbols.Length);
    }

    private static double BytesFromCounts(ReadOnlySpan<int> counts, long total)
    {
        double bits = 0;
        foreach (int c in counts)
            if (c > 0) bits += c * Math.Log2((double)total / c);
        return bits / 8;
    }
}
