using System.Numerics;

namespace Cleave.Codecs.Entropy;

/// <summary>
/// The compact frequency table at the start of a rANS block (layout in docs/entropy-coding.md). Frequencies are sent at
/// a precision t &lt;= k chosen by the encoder (the stream is then coded with M = 2^t), so small tensors pay for a coarse
/// table and large ones get a precise one. Only the used symbol range is listed, zeros inside it are run-length coded,
/// the other frequencies are exp-Golomb coded with an order that follows the previous frequency, and the last
/// frequency is implied.
/// </summary>
internal static class FrequencyTableCodec
{
    private const int OffsetBits = 4, PrecisionBits = 4, MaxSearchedOffset = 5;

    /// <summary>Bits needed for a symbol index in an alphabet of this size.</summary>
    public static int SymbolBits(int alphabetSize) => alphabetSize <= 1 ? 0 : 32 - BitOperations.LeadingZeroCount((uint)(alphabetSize - 1));

    /// <summary>
    /// Picks the table precision and returns the frequencies at that precision (summing to 2^precision) with the
    /// estimated table size; the choice minimizes table bits plus estimated coded bits.
    /// </summary>
    public static int Choose(ReadOnlySpan<int> counts, long total, int scaleBits, Span<int> bestFrequencies, out double estimatedBits)
    {
        estimatedBits = 0;
        int distinct = 0;
        for (int s = 0; s < counts.Length; s++) if (counts[s] > 0) distinct++;
        if (distinct <= 1)
        {
            for (int s = 0; s < counts.Length; s++) bestFrequencies[s] = counts[s] > 0 ? 1 : 0;
            return 0;
        }
        if (distinct > (1 << scaleBits))
            throw new ArgumentException(
                $"{distinct} distinct symbols do not fit a 2^{scaleBits} frequency table; use a larger scaleBits (at most {RansCoder.MaxScaleBits})");

        int minPrecision = Math.Max(1, 32 - BitOperations.LeadingZeroCount((uint)(distinct - 1)));
        int[] candidateArray = System.Buffers.ArrayPool<int>.Shared.Rent(counts.Length);
        try
        {
            estimatedBits = ChooseAmong(counts, total, scaleBits, minPrecision, candidateArray.AsSpan(0, counts.Length), bestFrequencies, out int precision);
            return precision;
        }
        finally { System.Buffers.ArrayPool<int>.Shared.Return(candidateArray); }
    }

    private static double ChooseAmong(ReadOnlySpan<int> counts, long total, int scaleBits, int minPrecision, Span<int> candidate,
        Span<int> bestFrequencies, out int chosenPrecision)
    {

        // Total bits (table + coded symbols) is close to unimodal in t, and the optimum sits near log2(n): a table
        // finer than the counts buys little. Start there and walk down, then up, while it improves.
        int bitLength = 64 - BitOperations.LeadingZeroCount((ulong)total);
        int first = Math.Clamp(bitLength - 1, minPrecision, scaleBits);
        double bestBits = EstimateBits(counts, total, first, candidate);
        int bestPrecision = first;
        candidate.CopyTo(bestFrequencies);
        for (int step = -1; step <= 1; step += 2)
        {
            // Down first; up only if the first step down did not help.
            if (step == 1 && bestPrecision != first) break;
            for (int t = first + step; t >= minPrecision && t <= scaleBits; t += step)
            {
                double bits = EstimateBits(counts, total, t, candidate);
                if (bits >= bestBits) break;
                bestBits = bits;
                bestPrecision = t;
                candidate.CopyTo(bestFrequencies);
            }
        }
        chosenPrecision = bestPrecision;
        return bestBits;
    }

    /// <summary>Normalizes the counts at precision t into <paramref name="frequencies"/>; returns table + coded bits.</summary>
    private static double EstimateBits(ReadOnlySpan<int> counts, long total, int precision, Span<int> frequencies)
    {
        FrequencyNormalizer.Normalize(counts, total, precision, frequencies);
        return FrequencyNormalizer.CodedBits(counts, frequencies, precision) + TableBits(frequencies, counts.Length, precision, out _);
    }

    /// <summary>Size in bits of the table for these frequencies (precision &gt; 0), and the best order offset.</summary>
    public static long TableBits(ReadOnlySpan<int> frequencies, int alphabetSize, int precision, out int bestOffset)
    {
        FindRange(frequencies, out int lo, out int hi);
        long header = PrecisionBits + 2L * SymbolBits(alphabetSize) + OffsetBits;
        long best = long.MaxValue;
        bestOffset = 0;
        // The format allows offsets up to 15; past 5 the codes only get longer on the tables seen so far, and each
        // candidate costs a pass over the table, which dominates encoding time for small tensors.
        for (int offset = 0; offset <= MaxSearchedOffset; offset++)
        {
            long bits = 0;
            int previous = -1;
            for (int s = lo; s < hi; s++)
            {
                int order = Order(previous, offset, precision);
                bits += TableBitWriter.ExpGolombLength((uint)frequencies[s], order);
                if (frequencies[s] == 0)
                {
                    int run = ZeroRun(frequencies, s, hi);
                    bits += TableBitWriter.ExpGolombLength((uint)(run - 1), 0);
                    s += run - 1;
                }
                previous = frequencies[s];
            }
            if (bits < best) { best = bits; bestOffset = offset; }
        }
        return header + best;
    }

    /// <summary>
    /// Exp-Golomb order for the next frequency: neighbouring frequencies of quantized activations are close, so the
    /// order follows the bit length of the previous one, less an offset chosen per table (t/2 for the first symbol).
    /// </summary>
    private static int Order(int previous, int offset, int precision) =>
        previous < 0 ? precision / 2 : Math.Max(0, 32 - BitOperations.LeadingZeroCount((uint)previous) - offset);

    public static void Write(TableBitWriter writer, ReadOnlySpan<int> frequencies, int precision, int alphabetSize)
    {
        int symbolBits = SymbolBits(alphabetSize);
        writer.Write((uint)precision, PrecisionBits);
        FindRange(frequencies, out int lo, out int hi);
        writer.Write((uint)lo, symbolBits);
        if (precision == 0) return;
        writer.Write((uint)(hi - lo), symbolBits);
        TableBits(frequencies, alphabetSize, precision, out int offset);
        writer.Write((uint)offset, OffsetBits);
        int previous = -1;
        for (int s = lo; s < hi; s++)
        {
            writer.WriteExpGolomb((uint)frequencies[s], Order(previous, offset, precision));
            if (frequencies[s] == 0)
            {
                int run = ZeroRun(frequencies, s, hi);
                writer.WriteExpGolomb((uint)(run - 1), 0);
                s += run - 1;
            }
            previous = frequencies[s];
        }
    }

    /// <summary>
    /// Reads a table into <paramref name="frequencies"/> (cleared first, length = alphabet size), summing to exactly
    /// 2^t, and returns the precision t (0 = a single symbol, whose index is in <paramref name="singleSymbol"/>).
    /// Everything is validated: t &lt;= scaleBits, the range inside the alphabet, the sum, the zero runs.
    /// </summary>
    public static int Read(ref TableBitReader reader, int alphabetSize, int scaleBits, Span<int> frequencies, out int singleSymbol)
    {
        frequencies.Clear();
        int symbolBits = SymbolBits(alphabetSize);
        int precision = (int)reader.Read(PrecisionBits);
        int lo = (int)reader.Read(symbolBits);
        singleSymbol = lo;
        if (precision > scaleBits) throw Corrupt($"table precision {precision} exceeds the scale bits {scaleBits}");
        if (lo >= alphabetSize) throw Corrupt($"symbol {lo} is outside the alphabet of {alphabetSize}");
        if (precision == 0)
        {
            frequencies[lo] = 1;
            return 0;
        }
        int span = (int)reader.Read(symbolBits);
        int hi = lo + span;
        if (span == 0 || hi >= alphabetSize) throw Corrupt($"symbol range {lo}..{hi} is empty or outside the alphabet of {alphabetSize}");
        int offset = (int)reader.Read(OffsetBits);
        long total = 1L << precision, sum = 0;
        int previous = -1;
        for (int s = lo; s < hi; s++)
        {
            uint f = reader.ReadExpGolomb(Order(previous, offset, precision));
            if (f >= total) throw Corrupt($"frequency {f} does not fit a 2^{precision} table");
            sum += f;
            if (sum >= total) throw Corrupt("frequencies leave nothing for the last symbol");
            frequencies[s] = (int)f;
            if (f == 0)
            {
                uint more = reader.ReadExpGolomb(0);
                if (more > (uint)(hi - s - 1)) throw Corrupt("zero run runs past the symbol range");
                s += (int)more; // the cleared span already holds zeros
            }
            previous = (int)f;
        }
        frequencies[hi] = (int)(total - sum);
        return precision;
    }

    private static FrameFormatException Corrupt(string message) => new(FrameError.CorruptPayload, "rANS frequency table: " + message);

    private static void FindRange(ReadOnlySpan<int> frequencies, out int lo, out int hi)
    {
        lo = 0;
        while (lo < frequencies.Length - 1 && frequencies[lo] == 0) lo++;
        hi = frequencies.Length - 1;
        while (hi > lo && frequencies[hi] == 0) hi--;
    }

    private static int ZeroRun(ReadOnlySpan<int> frequencies, int start, int end)
    {
        int s = start;
        while (s < end && frequencies[s] == 0) s++;
        return s - start;
    }
}
