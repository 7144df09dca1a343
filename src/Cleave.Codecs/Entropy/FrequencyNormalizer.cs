namespace Cleave.Codecs.Entropy;

/// <summary>
/// Turns symbol counts into frequencies that sum to exactly 2^bits, each used symbol getting at least 1. Encoder-side
/// only (the table itself is transmitted), so it may use floating point to pick which symbols absorb rounding.
/// </summary>
internal static class FrequencyNormalizer
{
    [ThreadStatic] private static PriorityQueue<int, double>? t_queue;

    public static void Normalize(ReadOnlySpan<int> counts, long total, int precisionBits, Span<int> frequencies)
    {
        long scale = 1L << precisionBits;
        long sum = 0;
        int distinct = 0;
        for (int s = 0; s < counts.Length; s++)
        {
            long c = counts[s];
            if (c == 0) { frequencies[s] = 0; continue; }
            distinct++;
            // Round to nearest in integers: c * 2^bits fits a long (c < 2^31, bits <= 15).
            long f = (c * scale * 2 + total) / (2 * total);
            frequencies[s] = (int)Math.Max(1, f);
            sum += frequencies[s];
        }
        if (distinct > scale)
            throw new ArgumentException($"{distinct} distinct symbols do not fit a 2^{precisionBits} frequency table");
        if (sum == scale) return;

        // Rounding left the sum off by a little (or, with many rare symbols bumped to 1, by more): move units where
        // they cost the fewest coded bits, measured as count * log2 change of the symbol's probability.
        // Reused per thread (the heap's order depends only on the operations, not on its capacity).
        var queue = t_queue ??= new PriorityQueue<int, double>();
        queue.Clear();
        if (sum > scale)
        {
            for (int s = 0; s < counts.Length; s++)
                if (frequencies[s] > 1) queue.Enqueue(s, DecrementCost(counts[s], frequencies[s]));
            while (sum > scale)
            {
                int s = queue.Dequeue();
                frequencies[s]--;
                sum--;
                if (frequencies[s] > 1) queue.Enqueue(s, DecrementCost(counts[s], frequencies[s]));
            }
        }
        else
        {
            for (int s = 0; s < counts.Length; s++)
                if (counts[s] > 0) queue.Enqueue(s, -IncrementGain(counts[s], frequencies[s]));
            while (sum < scale)
            {
                int s = queue.Dequeue();
                frequencies[s]++;
                sum++;
                queue.Enqueue(s, -IncrementGain(counts[s], frequencies[s]));
            }
        }
    }

    private static double DecrementCost(int count, int frequency) => count * Math.Log2((double)frequency / (frequency - 1));

    private static double IncrementGain(int count, int frequency) => count * Math.Log2((frequency + 1.0) / frequency);

    /// <summary>Bits the symbols would cost with these frequencies (the coder lands within a fraction of a percent).</summary>
    public static double CodedBits(ReadOnlySpan<int> counts, ReadOnlySpan<int> frequencies, int precisionBits)
    {
        double bits = 0;
        for (int s = 0; s < counts.Length; s++)
            if (counts[s] > 0) bits += counts[s] * (precisionBits - Math.Log2(frequencies[s]));
        return bits;
    }
}
