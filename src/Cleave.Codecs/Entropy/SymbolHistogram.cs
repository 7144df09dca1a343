using System.Runtime.InteropServices;

namespace Cleave.Codecs.Entropy;

/// <summary>Symbol counting for the encoder's table, checking every symbol against the alphabet.</summary>
internal static class SymbolHistogram
{
    public static void Count<T>(ReadOnlySpan<T> symbols, int alphabetSize, Span<int> counts) where T : unmanaged
    {
        counts.Clear();
        if (typeof(T) == typeof(byte)) CountBytes(MemoryMarshal.Cast<T, byte>(symbols), counts, alphabetSize);
        else CountShorts(MemoryMarshal.Cast<T, ushort>(symbols), counts, alphabetSize);
    }

    private static void CountShorts(ReadOnlySpan<ushort> symbols, Span<int> counts, int alphabetSize)
    {
        // Checked up front (vectorized), so the counting loop needs no compare; the first offender is reported as before.
        if (Largest(symbols) >= alphabetSize)
        {
            foreach (ushort s in symbols)
                if (s >= alphabetSize) throw OutOfAlphabet(s, alphabetSize);
        }
        // Two sub-histograms, as for bytes: long runs of one symbol would serialize on one counter.
        int[] partialArray = System.Buffers.ArrayPool<int>.Shared.Rent(2 * alphabetSize);
        try
        {
            var partial = partialArray.AsSpan(0, 2 * alphabetSize);
            partial.Clear();
            var second = partial[alphabetSize..];
            int i = 0;
            for (; i + 2 <= symbols.Length; i += 2)
            {
                partial[symbols[i]]++;
                second[symbols[i + 1]]++;
            }
            for (; i < symbols.Length; i++) partial[symbols[i]]++;
            for (int s = 0; s < alphabetSize; s++) counts[s] = partial[s] + second[s];
        }
        finally { System.Buffers.ArrayPool<int>.Shared.Return(partialArray); }
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

    private static int Largest(ReadOnlySpan<ushort> symbols)
    {
        int i = 0, largest = 0;
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated && symbols.Length >= 16)
        {
            var max = System.Runtime.Intrinsics.Vector256<ushort>.Zero;
            for (; i <= symbols.Length - 16; i += 16)
                max = System.Runtime.Intrinsics.Vector256.Max(max, System.Runtime.Intrinsics.Vector256.Create(symbols.Slice(i, 16)));
            for (int lane = 0; lane < 16; lane++) largest = Math.Max(largest, max[lane]);
        }
        for (; i < symbols.Length; i++) largest = Math.Max(largest, symbols[i]);
        return largest;
    }

    private static ArgumentException OutOfAlphabet(int symbol, int alphabetSize) =>
        new($"symbol {symbol} is outside the alphabet of {alphabetSize} symbols", "symbols");
}
