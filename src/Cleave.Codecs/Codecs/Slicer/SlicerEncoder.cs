using System.Buffers;
using System.Buffers.Binary;
using Cleave.Codecs.Entropy;

namespace Cleave.Codecs;

/// <summary>
/// The slicer pipeline for fixed settings: asymmetric top-K, magnitude splitting into equal-cardinality blocks,
/// adaptive level counts under an integer distortion guard, then positions and symbols through rANS.
/// Payload layout: docs/format.md, "slicer payload". Non-finite input: NaN is treated as 0 and ±Inf as ±(largest
/// finite magnitude among the survivors), as <c>quant</c> saturates them.
/// </summary>
internal static class SlicerEncoder
{
    /// <summary>The fixed-point unit of the guard: the largest survivor magnitude maps to 2^24.</summary>
    private const double FixedPointRange = 1 << 24;
    private const long BudgetCap = 1L << 62;

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_positions;

    public static SlicerEncodeResult Encode(ReadOnlySpan<float> values, SlicerSettings settings, IBufferWriter<byte> output)
    {
        int n = values.Length;
        if (n == 0) return new SlicerEncodeResult(0, 0, 0, 0, 0, settings);

        // Signal energy and mean square (the budget's unit) over finite values.
        double energy = 0;
        int finite = 0;
        foreach (float x in values)
            if (float.IsFinite(x)) { energy += (double)x * x; finite++; }
        double meanSquare = finite == 0 ? 0 : energy / finite;

        int k = settings.SurvivorsFor(n);
        int[] survivorArray = ArrayPool<int>.Shared.Rent(k);
        uint[] keyArray = ArrayPool<uint>.Shared.Rent(k);
        byte[] blockArray = ArrayPool<byte>.Shared.Rent(k);
        ushort[] symbolArray = ArrayPool<ushort>.Shared.Rent(k);
        try
        {
            var survivors = survivorArray.AsSpan(0, k);
            AsymmetricTopK.Select(values, settings.Asymmetry, survivors);

            // Positions go to scratch first: their layout byte comes before them.
            var positions = t_positions ??= new ArrayBufferWriter<byte>(1 << 12);
            positions.ResetWrittenCount();
            var layout = SurvivorPositions.Write(survivors, n, positions);

            // Sanitized magnitudes of the survivors, as ordered bit patterns.
            var keys = keyArray.AsSpan(0, k);
            float maxFinite = 0;
            foreach (int i in survivors)
            {
                float x = values[i];
                if (float.IsFinite(x)) maxFinite = Math.Max(maxFinite, Math.Abs(x));
            }
            double keptEnergy = 0;
            for (int j = 0; j < k; j++)
            {
                float x = values[survivors[j]];
                float m;
                if (float.IsNaN(x)) m = 0;
                else if (float.IsInfinity(x)) m = maxFinite;
                else { m = Math.Abs(x); keptEnergy += (double)x * x; }
                keys[j] = BitConverter.SingleToUInt32Bits(m);
            }

            var blockOf = blockArray.AsSpan(0, k);
            var symbols = symbolArray.AsSpan(0, k);
            Span<MagnitudeBlock> blocks = stackalloc MagnitudeBlock[SlicerSettings.MaxBlocks];
            int blockCount = SplitAndQuantize(values, survivors, keys, settings, meanSquare, maxFinite, blockOf, symbols, blocks,
                out double keptError, out int capped);
            blocks = blocks[..blockCount];

            // Header: layout, survivor count, positions, blocks.
            int headerLength = 1 + (layout == PositionLayout.All ? 0 : 4) + positions.WrittenCount + 1 + 9 * blockCount;
            Span<byte> head = output.GetSpan(headerLength);
            int at = 0;
            head[at++] = (byte)layout;
            if (layout != PositionLayout.All) { BinaryPrimitives.WriteInt32LittleEndian(head[at..], k); at += 4; }
            positions.WrittenSpan.CopyTo(head[at..]);
            at += positions.WrittenCount;
            head[at++] = (byte)blockCount;
            int alphabet = 0;
            foreach (var block in blocks)
            {
                head[at++] = (byte)(block.Levels - 1);
                BinaryPrimitives.WriteSingleLittleEndian(head[at..], block.Low);
                at += 4;
                if (block.Levels > 1) { BinaryPrimitives.WriteSingleLittleEndian(head[at..], block.Step); at += 4; }
                alphabet += 2 * block.Levels;
            }
            output.Advance(at);
            RansCoder.Encode(symbols, alphabet, output);

            double droppedEnergy = Math.Max(0, energy - keptEnergy);
            return new SlicerEncodeResult(k, blockCount, capped, droppedEnergy + keptError, energy, settings);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(survivorArray);
            ArrayPool<uint>.Shared.Return(keyArray);
            ArrayPool<byte>.Shared.Return(blockArray);
            ArrayPool<ushort>.Shared.Return(symbolArray);
        }
    }

    /// <summary>
    /// Magnitude splitting and adaptive bit quantization. Returns the number of (non-empty) blocks; fills the symbols
    /// and the squared error of the kept finite values.
    /// </summary>
    private static int SplitAndQuantize(ReadOnlySpan<float> values, ReadOnlySpan<int> survivors, ReadOnlySpan<uint> keys,
        SlicerSettings settings, double meanSquare, float maxFinite, Span<byte> blockOf, Span<ushort> symbols,
        Span<MagnitudeBlock> blocks, out double keptError, out int capped)
    {
        int k = keys.Length;
        // Quantile thresholds: block j starts at the sorted position floor(j k / M); rank 0 and k - 1 give the
        // range. Thresholds equal to the minimum or to each other merge blocks, so ties never split across blocks.
        int wanted = Math.Min(settings.Blocks, k);
        Span<int> ranks = stackalloc int[wanted + 1];
        for (int j = 0; j < wanted; j++) ranks[j] = (int)((long)j * k / wanted);
        ranks[wanted] = k - 1;
        Span<uint> selected = stackalloc uint[wanted + 1];
        RadixSelect.Select(keys, ranks, selected);
        float minimum = BitConverter.UInt32BitsToSingle(selected[0]), maximum = BitConverter.UInt32BitsToSingle(selected[wanted]);
        // Blocks share one step where they can: the budget gives every value the same allowed error, so the model's
        // step is the same in every block. Adjacent blocks are merged while that step spans them in at most 256
        // levels; the split stays only where the range needs it (heavy tails, high SNR). Measured in docs/codecs.md.
        double commonStep = Math.Sqrt(12 * settings.Delta * meanSquare);
        Span<uint> thresholds = stackalloc uint[wanted];
        int thresholdCount = 0;
        float runLow = minimum;
        for (int j = 1; j < wanted; j++)
        {
            uint t = selected[j];
            if (t <= (thresholdCount == 0 ? selected[0] : thresholds[thresholdCount - 1])) continue;
            float next = j + 1 < wanted ? BitConverter.UInt32BitsToSingle(selected[j + 1]) : maximum;
            if (commonStep > 0 && ((double)next - runLow) / commonStep + 1 <= MagnitudeBlock.MaxLevels) continue;
            thresholds[thresholdCount++] = t;
            runLow = BitConverter.UInt32BitsToSingle(t);
        }
        thresholds = thresholds[..thresholdCount];

        // Assign blocks; gather count, range and sum per block.
        int m = thresholdCount + 1;
        Span<int> count = stackalloc int[m];
        Span<uint> lowKey = stackalloc uint[m];
        Span<uint> highKey = stackalloc uint[m];
        Span<double> sum = stackalloc double[m];
        Span<double> sumSquares = stackalloc double[m];
        count.Clear(); sum.Clear(); sumSquares.Clear();
        lowKey.Fill(uint.MaxValue); highKey.Clear();
        for (int j = 0; j < k; j++)
        {
            uint key = keys[j];
            int b = 0;
            while (b < thresholds.Length && key >= thresholds[b]) b++;
            blockOf[j] = (byte)b;
            count[b]++;
            if (key < lowKey[b]) lowKey[b] = key;
            if (key > highKey[b]) highKey[b] = key;
            double mag = BitConverter.UInt32BitsToSingle(key);
            sum[b] += mag;
            sumSquares[b] += mag * mag;
        }
        // Every threshold is a survivor's magnitude, so no block is empty (the lowest holds the minimum).

        // The integer guard works on magnitudes in fixed point: the largest maps to 2^24.
        double scale = maxFinite > 0 ? FixedPointRange / maxFinite : 1;
        Span<int> levels = stackalloc int[m];
        Span<float> low = stackalloc float[m];
        Span<float> step = stackalloc float[m];
        Span<float> inverse = stackalloc float[m];
        Span<long> budget = stackalloc long[m];
        Span<long> error = stackalloc long[m];
        Span<double> trueError = stackalloc double[m];
        Span<bool> pending = stackalloc bool[m];
        for (int b = 0; b < m; b++)
        {
            low[b] = BitConverter.UInt32BitsToSingle(lowKey[b]);
            float high = BitConverter.UInt32BitsToSingle(highKey[b]);
            double allowed = settings.Delta * count[b] * meanSquare; // squared error this block may have
            budget[b] = (long)Math.Min(allowed * scale * scale, BudgetCap);
            double width = (double)high - low[b];
            int first;
            if (width == 0) first = 1;
            else
            {
                double variance = Math.Max(0, sumSquares[b] / count[b] - (sum[b] / count[b]) * (sum[b] / count[b]));
                double perValue = allowed / count[b];
                // Uniform-noise model: step^2 / 12 per value; the guard below checks the real error.
                first = variance <= perValue ? 1
                    : (int)Math.Clamp(Math.Ceiling(width / Math.Sqrt(12 * perValue)) + 1, 2, MagnitudeBlock.MaxLevels);
            }
            if (settings.PowerOfTwoLevels) first = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)first);
            SetLevels(b, first, lowKey[b], highKey[b], sum[b] / count[b], levels, low, step, inverse);
            pending[b] = true;
        }

        // Guard passes: quantize every pending block, measure its exact fixed-point error, raise the failing ones.
        for (int pass = 0; ; pass++)
        {
            QuantizePass(values, survivors, keys, blockOf, levels, low, step, inverse, pending, budget, scale, symbols, error, trueError);
            bool again = false;
            for (int b = 0; b < m; b++)
            {
                if (!pending[b]) continue;
                if (error[b] <= budget[b] || levels[b] >= MagnitudeBlock.MaxLevels) { pending[b] = false; continue; }
                int next;
                if (levels[b] == 1)
                {
                    double width = (double)BitConverter.UInt32BitsToSingle(highKey[b]) - low[b];
                    double perValue = Math.Max(budget[b] / (scale * scale) / count[b], 1e-300);
                    next = (int)Math.Clamp(Math.Ceiling(width / Math.Sqrt(12 * perValue)) + 1, 2, MagnitudeBlock.MaxLevels);
                }
                else
                {
                    double ratio = Math.Sqrt((double)error[b] / Math.Max(1, budget[b]));
                    next = (int)Math.Clamp(Math.Ceiling(levels[b] * Math.Min(ratio, 16)), levels[b] + 1, MagnitudeBlock.MaxLevels);
                }
                if (settings.PowerOfTwoLevels) next = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)next);
                SetLevels(b, Math.Min(next, MagnitudeBlock.MaxLevels), lowKey[b], highKey[b], sum[b] / count[b], levels, low, step, inverse);
                again = true;
            }
            if (!again) break;
        }

        // The symbol alphabet (sum of 2 L) must fit rANS's 4096: shrink the largest blocks and requantize them.
        bool shrunk = false;
        while (AlphabetSize(levels) > RansCoder.MaxAlphabetSize)
        {
            int widest = 0;
            for (int b = 1; b < m; b++) if (levels[b] >= levels[widest]) widest = b;
            int next = settings.PowerOfTwoLevels ? levels[widest] / 2 : levels[widest] * 7 / 8;
            SetLevels(widest, next, lowKey[widest], highKey[widest], sum[widest] / count[widest], levels, low, step, inverse);
            pending[widest] = true;
            shrunk = true;
        }
        capped = 0;
        for (int b = 0; b < m; b++) if (error[b] > budget[b] || pending[b]) capped++;
        if (shrunk)
        {
            for (int b = 0; b < m; b++) budget[b] = long.MaxValue; // no early exit: these levels are final
            QuantizePass(values, survivors, keys, blockOf, levels, low, step, inverse, pending, budget, scale, symbols, error, trueError);
        }

        Span<int> baseOf = stackalloc int[m];
        for (int b = 0, total = 0; b < m; b++)
        {
            baseOf[b] = total;
            total += 2 * levels[b];
            blocks[b] = new MagnitudeBlock(levels[b], low[b], levels[b] > 1 ? step[b] : 0);
        }
        if (m > 1)
            for (int j = 0; j < k; j++) symbols[j] = (ushort)(symbols[j] + baseOf[blockOf[j]]);
        keptError = 0;
        foreach (double e in trueError) keptError += e;
        return m;
    }

    private static int AlphabetSize(ReadOnlySpan<int> levels)
    {
        int total = 0;
        foreach (int l in levels) total += 2 * l;
        return total;
    }

    private static void SetLevels(int b, int count, uint lowKey, uint highKey, double mean,
        Span<int> levels, Span<float> low, Span<float> step, Span<float> inverse)
    {
        float lo = BitConverter.UInt32BitsToSingle(lowKey), hi = BitConverter.UInt32BitsToSingle(highKey);
        if (count <= 1 || hi == lo)
        {
            levels[b] = 1;
            low[b] = hi == lo ? lo : (float)mean;
            step[b] = 0;
            inverse[b] = 0;
            return;
        }
        // The step is rounded up to float32 so the top level still reaches the block's maximum.
        double exact = ((double)hi - lo) / (count - 1);
        if (b == 0 && lo > 0 && lo < exact)
        {
            // The lowest block's grid starts at 0 when its minimum is within a step of it: 0 is then a level and
            // carries no sign, as in a uniform quantizer (otherwise values near 0 would pay a sign bit each).
            lo = 0;
            exact = (double)hi / (count - 1);
        }
        float s = (float)exact;
        if (s < exact) s = MathF.BitIncrement(s);
        if (s <= 0) s = float.Epsilon;
        if (float.IsInfinity(s)) s = float.MaxValue;
        levels[b] = count;
        low[b] = lo;
        step[b] = s;
        inverse[b] = 1f / s;
    }

    /// <summary>
    /// Quantizes the survivors of the pending blocks: writes their local symbols (2q + sign) and sums the guard's
    /// fixed-point squared error (a block stops once over budget) and the float squared error of finite inputs.
    /// </summary>
    private static void QuantizePass(ReadOnlySpan<float> values, ReadOnlySpan<int> survivors, ReadOnlySpan<uint> keys,
        ReadOnlySpan<byte> blockOf, ReadOnlySpan<int> levels, ReadOnlySpan<float> low, ReadOnlySpan<float> step,
        ReadOnlySpan<float> inverse, Span<bool> pending, ReadOnlySpan<long> budget, double scale, Span<ushort> symbols,
        Span<long> error, Span<double> trueError)
    {
        int m = levels.Length;
        Span<bool> active = stackalloc bool[m];
        for (int b = 0; b < m; b++)
        {
            active[b] = pending[b];
            if (pending[b]) { error[b] = 0; trueError[b] = 0; }
        }
        for (int j = 0; j < keys.Length; j++)
        {
            int b = blockOf[j];
            if (!active[b]) continue;
            float magnitude = BitConverter.UInt32BitsToSingle(keys[j]);
            int q = 0;
            if (levels[b] > 1)
            {
                float u = (magnitude - low[b]) * inverse[b] + 0.5f;
                q = u <= 0 ? 0 : u >= levels[b] - 1 ? levels[b] - 1 : (int)u;
            }
            float r = MagnitudeBlock.Reconstruct(low[b], step[b], q);
            float x = values[survivors[j]];
            int sign = x < 0 && r != 0 ? 1 : 0; // a zero reconstruction carries no sign
            symbols[j] = (ushort)(2 * q + sign);

            long e = ToFixed(magnitude * scale) - ToFixed(r * scale);
            error[b] = Math.Min(error[b] + e * e, long.MaxValue / 2);
            // Over budget: this block will get more levels, unless it already has the most (then it is final).
            if (error[b] > budget[b] && levels[b] < MagnitudeBlock.MaxLevels) { active[b] = false; continue; }
            if (float.IsFinite(x))
            {
                double d = (double)x - (sign == 1 ? -r : r);
                trueError[b] += d * d;
            }
        }
    }

    private static long ToFixed(double v) => v < 1L << 40 ? (long)Math.Round(v) : 1L << 40;
}
