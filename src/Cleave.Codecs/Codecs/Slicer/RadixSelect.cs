using System.Buffers;

namespace Cleave.Codecs;

/// <summary>
/// Order statistics of unsigned keys in O(n): an MSD radix select over three digit levels (bits 31-21, 20-10, 9-0).
/// Each level is one histogram pass and one gather pass over the keys still in play, so the cost never depends on
/// the data (no quickselect worst case) and several ranks are answered in the same passes. Non-negative float32
/// values compare like their bit patterns, which is how the slicer uses it.
/// </summary>
internal static class RadixSelect
{
    private const int SmallList = 48;

    /// <summary>Sets <c>results[j]</c> to the <c>ranks[j]</c>-th smallest key (0-based); ranks must be ascending and in range.</summary>
    public static void Select(ReadOnlySpan<uint> keys, ReadOnlySpan<int> ranks, Span<uint> results)
    {
        for (int j = 0; j < ranks.Length; j++)
            if ((uint)ranks[j] >= (uint)keys.Length || (j > 0 && ranks[j] < ranks[j - 1]))
                throw new ArgumentOutOfRangeException(nameof(ranks), "ranks must be ascending and inside the key count");
        if (ranks.IsEmpty) return;
        Level(keys, ranks, results, shift: 21, bits: 11);
    }

    public static uint Select(ReadOnlySpan<uint> keys, int rank)
    {
        Span<uint> result = stackalloc uint[1];
        Select(keys, [rank], result);
        return result[0];
    }

    private static void Level(ReadOnlySpan<uint> keys, ReadOnlySpan<int> ranks, Span<uint> results, int shift, int bits)
    {
        if (keys.Length <= SmallList)
        {
            Span<uint> sorted = stackalloc uint[keys.Length];
            keys.CopyTo(sorted);
            sorted.Sort();
            for (int j = 0; j < ranks.Length; j++) results[j] = sorted[ranks[j]];
            return;
        }

        int bins = 1 << bits;
        uint mask = (uint)bins - 1;
        Span<int> counts = stackalloc int[bins];
        counts.Clear();
        // Two sub-histograms: runs of one digit (zeros after ReLU) would otherwise serialize on one counter.
        Span<int> oddCounts = stackalloc int[bins];
        oddCounts.Clear();
        int i = 0;
        for (; i + 2 <= keys.Length; i += 2)
        {
            counts[(int)((keys[i] >> shift) & mask)]++;
            oddCounts[(int)((keys[i + 1] >> shift) & mask)]++;
        }
        for (; i < keys.Length; i++) counts[(int)((keys[i] >> shift) & mask)]++;
        for (int b = 0; b < bins; b++) counts[b] += oddCounts[b];

        // Find the bin of each rank; ranks falling into the same bin share one sub-list.
        Span<int> binOfRank = stackalloc int[ranks.Length];
        Span<int> binStartOfRank = stackalloc int[ranks.Length];
        int bin = 0, start = 0;
        for (int j = 0; j < ranks.Length; j++)
        {
            while (start + counts[bin] <= ranks[j]) { start += counts[bin]; bin++; }
            binOfRank[j] = bin;
            binStartOfRank[j] = start;
        }

        uint prefix = shift + bits >= 32 ? 0 : keys[0] & ~((1u << (shift + bits)) - 1);
        if (shift == 0)
        {
            for (int j = 0; j < ranks.Length; j++) results[j] = prefix | (uint)binOfRank[j];
            return;
        }

        int nextShift = shift > 10 ? 10 : 0, nextBits = shift > 10 ? 11 : 10;
        if (counts[binOfRank[0]] == keys.Length)
        {
            // Every key shares this digit (zeros after ReLU, a narrow range): go one digit down without copying.
            Level(keys, ranks, results, nextShift, nextBits);
            return;
        }

        // One gather pass collects the keys of every wanted bin into consecutive regions of one buffer.
        Span<short> slotOfBin = stackalloc short[bins];
        slotOfBin.Fill(-1);
        Span<int> offsets = stackalloc int[ranks.Length + 1];
        int slots = 0, total = 0;
        for (int j = 0; j < ranks.Length; j++)
        {
            if (slotOfBin[binOfRank[j]] >= 0) continue;
            slotOfBin[binOfRank[j]] = (short)slots;
            offsets[slots++] = total;
            total += counts[binOfRank[j]];
        }
        offsets[slots] = total;
        uint[] gathered = ArrayPool<uint>.Shared.Rent(total);
        try
        {
            Span<int> fill = stackalloc int[slots];
            offsets[..slots].CopyTo(fill);
            foreach (uint key in keys)
            {
                int slot = slotOfBin[(int)((key >> shift) & mask)];
                if (slot >= 0) gathered[fill[slot]++] = key;
            }

            Span<int> subRanks = stackalloc int[ranks.Length];
            for (int j = 0; j < ranks.Length;)
            {
                int b = binOfRank[j], slot = slotOfBin[b];
                int end = j;
                while (end < ranks.Length && binOfRank[end] == b) { subRanks[end] = ranks[end] - binStartOfRank[end]; end++; }
                var list = gathered.AsSpan(offsets[slot], offsets[slot + 1] - offsets[slot]);
                Level(list, subRanks[j..end], results[j..end], nextShift, nextBits);
                j = end;
            }
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(gathered);
        }
    }
}
