using System.Buffers;
using System.Numerics;
using Cleave.Codecs.Entropy;

namespace Cleave.Codecs;

/// <summary>
/// Predicts the size of one rANS block from a histogram without coding it: header + the coder's own table size for
/// frequencies rounded at the precision the coder would pick + the order-0 entropy of the symbols + the flushed lane
/// states. It skips the coder's exact normalization and precision search (too slow to run for every candidate width);
/// the coder lands within a fraction of a percent of the entropy (docs/entropy-coding.md).
/// </summary>
internal static class RansBlockSize
{
    /// <param name="histogram">Counts of the used symbol range only (the model trims the empty ends: tables list only
    /// the used range, so the trimmed histogram is all the estimate needs).</param>
    /// <param name="alphabetSize">The block's alphabet, which sets the width of the table's range fields.</param>
    /// <param name="symbols">How many symbols the block codes (a model's rounded histogram may sum to a little less or more).</param>
    public static double Predict(ReadOnlySpan<int> histogram, int alphabetSize, long symbols)
    {
        if (symbols == 0) return 0; // the codec writes no block for an empty stream
        long sum = 0;
        int distinct = 0;
        double sumLogs = 0;
        foreach (int c in histogram)
        {
            if (c == 0) continue;
            sum += c;
            distinct++;
            sumLogs += c * Math.Log2(c);
        }
        if (sum == 0) return 0;
        double tableBits, streamBytes;
        if (distinct == 1)
        {
            tableBits = 4 + FrequencyTableCodec.SymbolBits(alphabetSize);
            streamBytes = 0;
        }
        else
        {
            // Entropy in bits: sum·log2(sum) - Σ c·log2(c), scaled from the histogram's total to the real count.
            double entropyBits = (sum * Math.Log2(sum) - sumLogs) * symbols / sum;
            // The coder keeps coarser tables for short streams; about log2(n) bits of precision is where they stop paying.
            int minimum = Math.Max(1, BitLength(distinct - 1));
            int precision = Math.Clamp(BitLength((int)Math.Min(symbols, int.MaxValue)), minimum, RansCoder.DefaultScaleBits);
            tableBits = TableBits(histogram, sum, alphabetSize, precision);
            streamBytes = 2 * Math.Ceiling(entropyBits / 16) + 4 * RansCoder.LanesFor((int)symbols, entropyBits / 8);
        }
        return 1 + VarIntBytes((uint)alphabetSize) + VarIntBytes((uint)streamBytes) + Math.Ceiling(tableBits / 8) + streamBytes;
    }

    private static long TableBits(ReadOnlySpan<int> histogram, long sum, int alphabetSize, int precision)
    {
        int[] frequencies = ArrayPool<int>.Shared.Rent(histogram.Length);
        try
        {
            long scale = 1L << precision;
            for (int s = 0; s < histogram.Length; s++)
            {
                long c = histogram[s];
                frequencies[s] = c == 0 ? 0 : (int)Math.Max(1, (c * scale * 2 + sum) / (2 * sum));
            }
            return FrequencyTableCodec.TableBits(frequencies.AsSpan(0, histogram.Length), alphabetSize, precision, out _);
        }
        finally { ArrayPool<int>.Shared.Return(frequencies); }
    }

    /// <summary>The histogram without its leading and trailing zero counts.</summary>
    public static ReadOnlySpan<int> Trim(ReadOnlySpan<int> histogram)
    {
        int lo = 0, hi = histogram.Length - 1;
        while (lo < hi && histogram[lo] == 0) lo++;
        while (hi > lo && histogram[hi] == 0) hi--;
        return histogram.IsEmpty ? histogram : histogram[lo..(hi + 1)];
    }

    private static int BitLength(int value) => value <= 0 ? 0 : 32 - BitOperations.LeadingZeroCount((uint)value);

    private static int VarIntBytes(uint value)
    {
        int bytes = 1;
        while (value >= 0x80) { value >>= 7; bytes++; }
        return bytes;
    }
}
