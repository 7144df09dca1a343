namespace Cleave.Codecs.Analysis;

/// <summary>Order-0 (memoryless) entropy of a symbol stream: the size bound an entropy coder is measured against.</summary>
public static class SymbolStatistics
{
    public static double Order0Bytes(ReadOnlySpan<byte> symbols)
    {
        Span<int> counts = stackalloc int[256];
        counts.Clear();
        foreach (byte s in symbols) counts[s]++;
        return Order0Bytes(counts, symbols.Length);
    }

    public static double Order0Bytes(ReadOnlySpan<ushort> symbols)
    {
        var counts = new int[65536];
        foreach (ushort s in symbols) counts[s]++;
        return Order0Bytes(counts, symbols.Length);
    }

    private static double Order0Bytes(ReadOnlySpan<int> counts, int total)
    {
        if (total == 0) return 0;
        double bits = 0;
        foreach (int count in counts)
            if (count > 0) bits -= count * Math.Log2(count / (double)total);
        return bits / 8;
    }
}
