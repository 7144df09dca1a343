using System.Runtime.InteropServices;

namespace Cleave.Codecs.Entropy;

/// <summary>Symbol counting for the encoder's table, checking every symbol against the alphabet.</summary>
internal static class SymbolHistogram
{
    public static void Count<T>(ReadOnlySpan<T> symbols, int alphabetSize, Span<int> counts) where T : unmanaged
    {
        counts.Clear();
        if (typeof(T) == typeof(byte)) CountBytes(MemoryMarshal.Cast<T, byte>(symbols), counts, alphabetSize);
        else
        {
            foreach (ushort s in MemoryMarshal.Cast<T, ushort>(symbols))
            {
                if (s >= alphabetSize) throw OutOfAlphabet(s, alphabetSize);
                counts[s]++;
            }
        }
    }

    private static void CountBytes(ReadOnlySpan<byte> symbols, Span<int> counts, int alphabetSize)
    {
        // Four sub-histograms: runs of one value (zeros in ReLU outputs) would otherwise serialize on one counter.
        Span<int> partial = stackalloc int[4 * 256];
        partial.Clear();
        int i = 0;
        for (; i + 4 <= symbols.Length; i += 4)
        {
            partial[symbols[i]]++;
            partial[256 + symbols[i + 1]]++;
            partial[512 + symbols[i + 2]]++;
            partial[768 + symbols[i + 3]]++;
        }
        for (; i < symbols.Length; i++) partial[symbols[i]]++;
        for (int s = 0; s < 256; s++)
        {
            int c = partial[s] + partial[256 + s] + partial[512 + s] + partial[768 + s];
            if (c == 0) continue;
            if (s >= alphabetSize) throw OutOfAlphabet(s, alphabetSize);
            counts[s] = c;
        }
    }

    private static ArgumentException OutOfAlphabet(int symbol, int alphabetSize) =>
        new($"symbol {symbol} is outside the alphabet of {alphabetSize} symbols", "symbols");
}
