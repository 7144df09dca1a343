using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using Cleave.Codecs.Entropy;

namespace Cleave.Codecs;

/// <summary>
/// The slicer pipeline for fixed settings: asymmetric top-K, magnitude splitting into equal-cardinality blocks,
/// adaptive level counts under an integer distortion guard, then positions and symbols through rANS.
/// Payload layout: docs/format.md, "slicer payload". Non-finite input: NaN is treated as 0 and ±Inf as ±(largest
/// finite magnitude in the tensor), as <c>quant</c> saturates them.
/// </summary>
internal static class SlicerEncoder
{
    /// <summary>The fixed-point unit of the guard: the tensor's largest finite magnitude maps to 2^24.</summary>
    private const double FixedPointRange = 1 << 24;
    private const long BudgetCap = 1L << 62;
    private const int NegativeFlag = 0x80;

    /// <summary>Magnitude histogram bins: the top 11 bits of a non-negative float (exponent and 3 mantissa bits, 1/8 octave).</summary>
    private const int HistogramShift = 20, HistogramBins = 1 << 11;

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_positions;

    /// <param name="measureError">Compute the exact squared error of the result (one more pass); the target search needs it.</param>
    /// <param name="rowLength">The tensor's last dimension: with <see cref="SlicerSettings.RowReferences"/> and every value
    /// kept, the symbols are also coded as row references of this length and the smaller coding is sent.</param>
    /// <param name="contextShape">The tensor's shape: with <see cref="SlicerSettings.SpatialContext"/> and every value kept,
    /// the symbols are also range-coded under their neighbours in this shape and the smallest coding is sent.</param>
    public static SlicerEncodeResult Encode(ReadOnlySpan<float> values, SlicerSettings settings, IBufferWriter<byte> output,
        bool measureError = true, int rowLength = 0, TensorShape? contextShape = null)
    {
        int n = values.Length;
        if (n == 0) return new SlicerEncodeResult(0, 0, 0, 0, 0, settings);

        // Signal energy, the mean square (the budget's unit) and the largest magnitude, over finite values.
        var (energy, finite, maxFinite) = SignalStatistics.Measure(values);
        double meanSquare = finite == 0 ? 0 : energy / finite;

        int k = settings.SurvivorsFor(n);
        bool all = k == n;
        int[] survivorArray = ArrayPool<int>.Shared.Rent(all ? 0 : k);
        uint[] keyArray = ArrayPool<uint>.Shared.Rent(k);
        byte[] blockArray = ArrayPool<byte>.Shared.Rent(k);
        ushort[] symbolArray = ArrayPool<ushort>.Shared.Rent(k);
        try
        {
            var survivors = survivorArray.AsSpan(0, all ? 0 : k);
            var positions = t_positions ??= new ArrayBufferWriter<byte>(1 << 12);
            positions.ResetWrittenCount();
            var layout = PositionLayout.All;
            if (!all)
            {
                AsymmetricTopK.Select(values, settings.Asymmetry, survivors);
                // Positions go to scratch first: their layout byte comes before them.
                layout = SurvivorPositions.Write(survivors, n, positions);
            }

            // One pass over the survivors: sanitized magnitudes (as ordered bit patterns), signs, a 1/8-octave
            // histogram for the block quantiles, and the kept energy.
            var keys = keyArray.AsSpan(0, k);
            var blockOf = blockArray.AsSpan(0, k);
            Span<int> histogram = stackalloc int[HistogramBins];
            histogram.Clear();
            double scale = maxFinite > 0 ? Math.Min(FixedPointRange / maxFinite, Math.ScaleB(1.0, 100)) : 1; // float32-safe
            double keptEnergy = 0;
            uint minKey = uint.MaxValue, maxKey = 0;
            uint infinityKey = BitConverter.SingleToUInt32Bits(maxFinite); // ±Inf is coded as ±(largest finite magnitude)
            // Two sub-histograms (even and odd elements): runs of one bin (the zeros of ReLU outputs) would otherwise
            // serialize on one counter. Separate loops for all and for survivors keep the element load simple.
            Span<int> oddHistogram = stackalloc int[HistogramBins];
            oddHistogram.Clear();
            if (all)
            {
                for (int j = 0; j < k; j++)
                {
                    uint bits = BitConverter.SingleToUInt32Bits(values[j]);
                    uint key = bits & 0x7FFF_FFFF; // |x| as an ordered bit pattern
                    if (key >= 0x7F80_0000) key = key == 0x7F80_0000 ? infinityKey : 0; // Inf, NaN (rare: predicted)
                    keys[j] = key;
                    blockOf[j] = (byte)((bits >> 24) & NegativeFlag); // the sign bit, without a branch
                    ((j & 1) == 0 ? histogram : oddHistogram)[(int)(key >> HistogramShift)]++;
                    minKey = Math.Min(minKey, key);
                    maxKey = Math.Max(maxKey, key);
                }
            }
            else
            {
                for (int j = 0; j < k; j++)
                {
                    float x = values[survivors[j]];
                    uint bits = BitConverter.SingleToUInt32Bits(x);
                    uint key = bits & 0x7FFF_FFFF;
                    if (key >= 0x7F80_0000) key = key == 0x7F80_0000 ? infinityKey : 0;
                    else keptEnergy += (double)x * x;
                    keys[j] = key;
                    blockOf[j] = (byte)((bits >> 24) & NegativeFlag);
                    ((j & 1) == 0 ? histogram : oddHistogram)[(int)(key >> HistogramShift)]++;
                    minKey = Math.Min(minKey, key);
                    maxKey = Math.Max(maxKey, key);
                }
            }
            for (int bin = 0; bin < HistogramBins; bin++) histogram[bin] += oddHistogram[bin];
            if (all) keptEnergy = energy;

            var symbols = symbolArray.AsSpan(0, k);
            Span<MagnitudeBlock> blocks = stackalloc MagnitudeBlock[SlicerSettings.MaxBlocks];
            int blockCount = SplitAndQuantize(keys, histogram, minKey, maxKey, settings, meanSquare, scale,
                blockOf, symbols, blocks, out int capped);
            blocks = blocks[..blockCount];

            int alphabet = 0;
            foreach (var block in blocks) alphabet += 2 * block.Levels;
            double keptError = measureError ? KeptError(values, survivors, symbols, blocks, alphabet) : double.NaN;
            ArrayBufferWriter<byte>? symbolBytes = null;
            int rowsLength = settings.RowReferences && rowLength > 0 && n / rowLength >= 2 ? rowLength : 0;
            var context = settings.SpatialContext ? contextShape : null;
            if (all && (rowsLength > 0 || context is not null))
                symbolBytes = SmallestSymbolCoding(symbols, blocks, alphabet, rowsLength, context, ref layout);

            // Header: layout, survivor count, positions, blocks; then the symbols.
            int headerLength = 1 + (all ? 0 : 4) + positions.WrittenCount + 1 + 9 * blockCount;
            Span<byte> head = output.GetSpan(headerLength);
            int at = 0;
            head[at++] = (byte)layout;
            if (!all) { BinaryPrimitives.WriteInt32LittleEndian(head[at..], k); at += 4; }
            positions.WrittenSpan.CopyTo(head[at..]);
            at += positions.WrittenCount;
            head[at++] = (byte)blockCount;
            foreach (var block in blocks)
            {
                head[at++] = (byte)(block.Levels - 1);
                BinaryPrimitives.WriteSingleLittleEndian(head[at..], block.Low);
                at += 4;
                if (block.Levels > 1) { BinaryPrimitives.WriteSingleLittleEndian(head[at..], block.Step); at += 4; }
            }
            output.Advance(at);
            if (symbolBytes is not null) output.Write(symbolBytes.WrittenSpan);
            else WriteSymbols(symbols, alphabet, output);

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
    /// Every value kept, with <c>rows=ref</c> (<paramref name="rowLength"/> &gt; 0) and/or <c>ctx=2d</c>
    /// (<paramref name="contextShape"/> set): codes the symbols as one block, as row references of their value ranks
    /// (<see cref="OrderByValue"/>) and as context-coded value ranks, and returns the smallest coding (setting
    /// <paramref name="layout"/> to match).
    /// </summary>
    private static ArrayBufferWriter<byte> SmallestSymbolCoding(ReadOnlySpan<ushort> symbols, ReadOnlySpan<MagnitudeBlock> blocks,
        int alphabet, int rowLength, TensorShape? contextShape, ref PositionLayout layout)
    {
        var best = new ArrayBufferWriter<byte>(symbols.Length + 64);
        WriteSymbols(symbols, alphabet, best);
        Span<float> table = stackalloc float[alphabet];
        FillValueTable(blocks, table);
        Span<ushort> symbolOfRank = stackalloc ushort[alphabet];
        OrderByValue(table, symbolOfRank);
        Span<ushort> rankOf = stackalloc ushort[alphabet];
        for (int r = 0; r < alphabet; r++) rankOf[symbolOfRank[r]] = (ushort)r;
        ushort[] rankArray = ArrayPool<ushort>.Shared.Rent(symbols.Length);
        try
        {
            var ranks = rankArray.AsSpan(0, symbols.Length);
            for (int j = 0; j < symbols.Length; j++) ranks[j] = rankOf[symbols[j]];
            if (rowLength > 0)
            {
                var rows = new ArrayBufferWriter<byte>(symbols.Length + 64);
                RowReferences.Encode(ranks, rowLength, alphabet, rows);
                if (rows.WrittenCount < best.WrittenCount) { best = rows; layout = PositionLayout.AllRows; }
            }
            if (contextShape is not null)
            {
                var context = new ArrayBufferWriter<byte>(symbols.Length / 4 + 64);
                SpatialContextCoder.Encode(ranks, contextShape, ContextBits(alphabet), ZeroRank(table, symbolOfRank), context);
                if (context.WrittenCount < best.WrittenCount) { best = context; layout = PositionLayout.AllContext; }
            }
            return best;
        }
        finally { ArrayPool<ushort>.Shared.Return(rankArray); }
    }

    /// <summary>Bits per rank for the context coder: enough for the alphabet.</summary>
    internal static int ContextBits(int alphabet) => Math.Max(1, 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)(alphabet - 1)));

    /// <summary>The rank whose value is nearest 0 (the first on ties): the context coder's background.</summary>
    internal static int ZeroRank(ReadOnlySpan<float> table, ReadOnlySpan<ushort> symbolOfRank)
    {
        int best = 0;
        for (int r = 1; r < symbolOfRank.Length; r++)
            if (Math.Abs(table[symbolOfRank[r]]) < Math.Abs(table[symbolOfRank[best]])) best = r;
        return best;
    }

    /// <summary>
    /// The symbols sorted by the value they decode to, ties by symbol number (so encoder and decoder agree exactly):
    /// row references difference these ranks, so a value one level away is one rank away whatever its block or sign.
    /// </summary>
    internal static void OrderByValue(ReadOnlySpan<float> table, Span<ushort> symbolOfRank)
    {
        var values = table.ToArray();
        var order = new ushort[table.Length];
        for (int s = 0; s < order.Length; s++) order[s] = (ushort)s;
        Array.Sort(order, (a, b) => values[a] != values[b] ? values[a].CompareTo(values[b]) : a.CompareTo(b));
        order.CopyTo(symbolOfRank);
    }

    /// <summary>Byte symbols when the alphabet allows (the coder's faster path; the block format is the same).</summary>
    private static void WriteSymbols(ReadOnlySpan<ushort> symbols, int alphabet, IBufferWriter<byte> output)
    {
        if (alphabet > 256)
        {
            RansCoder.Encode(symbols, alphabet, output);
            return;
        }
        byte[] narrow = ArrayPool<byte>.Shared.Rent(symbols.Length);
        try
        {
            for (int j = 0; j < symbols.Length; j++) narrow[j] = (byte)symbols[j];
            RansCoder.Encode(narrow.AsSpan(0, symbols.Length), alphabet, output);
        }
        finally { ArrayPool<byte>.Shared.Return(narrow); }
    }

    /// <summary>The exact squared error of the decoder's values (its symbol table) against the finite kept inputs.</summary>
    private static double KeptError(ReadOnlySpan<float> values, ReadOnlySpan<int> survivors, ReadOnlySpan<ushort> symbols,
        ReadOnlySpan<MagnitudeBlock> blocks, int alphabet)
    {
        Span<float> table = stackalloc float[alphabet];
        FillValueTable(blocks, table);
        double error = 0;
        bool all = survivors.IsEmpty;
        for (int j = 0; j < symbols.Length; j++)
        {
            float x = all ? values[j] : values[survivors[j]];
            if (!float.IsFinite(x)) continue;
            double d = (double)x - table[symbols[j]];
            error += d * d;
        }
        return error;
    }

    /// <summary>The decoded value of every symbol: base(block) + 2q is +r, base(block) + 2q + 1 is -r.</summary>
    internal static void FillValueTable(ReadOnlySpan<MagnitudeBlock> blocks, Span<float> table)
    {
        int at = 0;
        foreach (var block in blocks)
            for (int q = 0; q < block.Levels; q++, at += 2)
            {
                float r = MagnitudeBlock.Reconstruct(block.Low, block.Step, q);
                table[at] = r;
                table[at + 1] = -r;
            }
    }

    /// <summary>
    /// Magnitude splitting and adaptive bit quantization: chooses the blocks and their level counts, writes the final
    /// symbols, and returns the number of blocks (<paramref name="capped"/>: blocks over budget at the level limit).
    /// </summary>
    private static int SplitAndQuantize(ReadOnlySpan<uint> keys, ReadOnlySpan<int> histogram,
        uint minKey, uint maxKey, SlicerSettings settings, double meanSquare, double scale, Span<byte> blockOf,
        Span<ushort> symbols, Span<MagnitudeBlock> blocks, out int capped)
    {
        int k = keys.Length;
        float minimum = BitConverter.UInt32BitsToSingle(minKey), maximum = BitConverter.UInt32BitsToSingle(maxKey);
        double perValue = settings.Delta * meanSquare; // the squared error each value may add

        // Equal-cardinality split: block j would start at sorted position floor(j k / M). Blocks share one step where
        // they can: the budget allows every value the same error, so the model's step is the same in every block, and
        // adjacent blocks are merged while that step spans them in at most 256 levels. Splits stay only where the range
        // needs them (heavy tails, high SNR); measured in docs/codecs.md. Block starts are taken to the histogram's
        // resolution (1/8 octave), so equal cardinality holds to within one histogram bin.
        int wanted = Math.Min(settings.Blocks, k);
        double commonStep = Math.Sqrt(12 * perValue);
        Span<int> splitBins = stackalloc int[wanted];
        int splits = 0;
        int minBin = (int)(minKey >> HistogramShift);
        float runLow = minimum;
        for (int j = 1, bin = 0, below = 0; j < wanted; j++)
        {
            int rank = (int)((long)j * k / wanted);
            while (below + histogram[bin] <= rank) below += histogram[bin++];
            int nextBin = bin, nextBelow = below;
            int nextRank = (int)((long)(j + 1) * k / wanted);
            while (j + 1 < wanted && nextBelow + histogram[nextBin] <= nextRank) nextBelow += histogram[nextBin++];
            float nextStart = j + 1 < wanted ? BinStart(nextBin) : maximum;
            if (bin <= minBin || (splits > 0 && bin <= splitBins[splits - 1])) continue; // an empty block
            if (commonStep > 0 && ((double)nextStart - runLow) / commonStep + 1 <= MagnitudeBlock.MaxLevels) continue; // merged
            splitBins[splits++] = bin;
            runLow = BinStart(bin);
        }

        // Block b holds the magnitudes in [start of split b - 1, start of split b): its range is known from the
        // bin edges (exact at both ends of the tensor), so no pass is needed to find it.
        int m = splits + 1;
        Span<int> count = stackalloc int[m];
        Span<uint> lowKey = stackalloc uint[m];
        Span<uint> highKey = stackalloc uint[m];
        Span<byte> blockOfBin = stackalloc byte[HistogramBins];
        for (int b = 0, bin = 0; b < m; b++)
        {
            int end = b < splits ? splitBins[b] : HistogramBins;
            lowKey[b] = b == 0 ? minKey : (uint)bin << HistogramShift;
            highKey[b] = b == m - 1 ? maxKey : ((uint)end << HistogramShift) - 1;
            int members = 0;
            for (; bin < end; bin++)
            {
                blockOfBin[bin] = (byte)b;
                members += histogram[bin];
            }
            count[b] = members;
        }

        Span<int> levels = stackalloc int[m];
        Span<float> low = stackalloc float[m];
        Span<float> step = stackalloc float[m];
        Span<float> inverse = stackalloc float[m];
        Span<long> budget = stackalloc long[m];
        Span<long> error = stackalloc long[m];
        Span<bool> pending = stackalloc bool[m];
        for (int b = 0; b < m; b++)
        {
            budget[b] = (long)Math.Min(perValue * count[b] * scale * scale, BudgetCap);
            double width = (double)BitConverter.UInt32BitsToSingle(highKey[b]) - BitConverter.UInt32BitsToSingle(lowKey[b]);
            // One level (the midpoint) is off by at most width / 2 per value; otherwise the uniform-noise model
            // (step^2 / 12 per value). Either way the guard below checks the real error.
            int first = width == 0 || width * width / 4 <= perValue ? 1 : ModelLevels(width, perValue);
            if (settings.PowerOfTwoLevels) first = (int)BitOperations.RoundUpToPowerOf2((uint)first);
            SetLevels(b, first, lowKey[b], highKey[b], levels, low, step, inverse);
            pending[b] = true;
        }

        // Guard passes: quantize every pending block, measure its exact fixed-point error, raise the failing ones.
        while (true)
        {
            QuantizePass(keys, blockOf, blockOfBin, levels, low, step, inverse, pending, budget, scale, symbols, error);
            bool again = false;
            for (int b = 0; b < m; b++)
            {
                if (!pending[b]) continue;
                if (error[b] <= budget[b] || levels[b] >= MagnitudeBlock.MaxLevels) { pending[b] = false; continue; }
                int next;
                if (levels[b] == 1)
                {
                    double width = (double)BitConverter.UInt32BitsToSingle(highKey[b]) - BitConverter.UInt32BitsToSingle(lowKey[b]);
                    next = Math.Max(2, ModelLevels(width, perValue));
                }
                else
                {
                    // Error falls about as 1 / levels^2.
                    double ratio = Math.Sqrt((double)error[b] / Math.Max(1, budget[b]));
                    next = (int)Math.Clamp(Math.Ceiling(levels[b] * Math.Min(ratio, 16)), levels[b] + 1, MagnitudeBlock.MaxLevels);
                }
                if (settings.PowerOfTwoLevels) next = (int)BitOperations.RoundUpToPowerOf2((uint)next);
                SetLevels(b, Math.Min(next, MagnitudeBlock.MaxLevels), lowKey[b], highKey[b], levels, low, step, inverse);
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
            SetLevels(widest, next, lowKey[widest], highKey[widest], levels, low, step, inverse);
            pending[widest] = true;
            shrunk = true;
        }
        capped = 0;
        for (int b = 0; b < m; b++) if (error[b] > budget[b] || pending[b]) capped++;
        if (shrunk)
        {
            budget.Fill(long.MaxValue); // no early exit: these levels are final
            QuantizePass(keys, blockOf, blockOfBin, levels, low, step, inverse, pending, budget, scale, symbols, error);
        }

        Span<int> baseOf = stackalloc int[m];
        for (int b = 0, total = 0; b < m; b++)
        {
            baseOf[b] = total;
            total += 2 * levels[b];
            blocks[b] = new MagnitudeBlock(levels[b], low[b], levels[b] > 1 ? step[b] : 0);
        }
        if (m > 1 && GuardPassVector.Applies(m, []))
            GuardPassVector.AddBases(keys, blockOfBin, baseOf, symbols);
        else if (m > 1)
        {
            Span<ushort> baseOfBin = stackalloc ushort[HistogramBins];
            for (int bin = 0; bin < HistogramBins; bin++) baseOfBin[bin] = (ushort)baseOf[blockOfBin[bin]];
            for (int j = 0; j < k; j++) symbols[j] += baseOfBin[(int)(keys[j] >> HistogramShift)];
        }
        return m;
    }

    private static float BinStart(int bin) => BitConverter.UInt32BitsToSingle((uint)bin << HistogramShift);

    private static int ModelLevels(double width, double perValue) =>
        perValue <= 0 ? MagnitudeBlock.MaxLevels
            : (int)Math.Clamp(Math.Ceiling(width / Math.Sqrt(12 * perValue)) + 1, 2, MagnitudeBlock.MaxLevels);

    private static int AlphabetSize(ReadOnlySpan<int> levels)
    {
        int total = 0;
        foreach (int l in levels) total += 2 * l;
        return total;
    }

    private static void SetLevels(int b, int count, uint lowKey, uint highKey,
        Span<int> levels, Span<float> low, Span<float> step, Span<float> inverse)
    {
        float lo = BitConverter.UInt32BitsToSingle(lowKey), hi = BitConverter.UInt32BitsToSingle(highKey);
        if (count <= 1 || hi == lo)
        {
            levels[b] = 1;
            low[b] = hi == lo ? lo : (float)(((double)lo + hi) / 2);
            step[b] = 0;
            inverse[b] = 0;
            return;
        }
        double exact = ((double)hi - lo) / (count - 1);
        if (b == 0 && lo > 0 && lo < exact)
        {
            // The lowest block's grid starts at 0 when its minimum is within a step of it: 0 is then a level and
            // carries no sign, as in a uniform quantizer (otherwise values near 0 would pay a sign bit each).
            lo = 0;
            exact = (double)hi / (count - 1);
        }
        // The step is rounded up to float32 so the top level still reaches the block's maximum.
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
    /// squared error in integers, fixed-point input magnitude minus fixed-point reconstruction (a block stops once
    /// over budget, since it will be requantized).
    /// </summary>
    private static void QuantizePass(ReadOnlySpan<uint> keys, ReadOnlySpan<byte> blockOf,
        ReadOnlySpan<byte> blockOfBin, ReadOnlySpan<int> levels, ReadOnlySpan<float> low, ReadOnlySpan<float> step, ReadOnlySpan<float> inverse,
        Span<bool> pending, ReadOnlySpan<long> budget, double scale, Span<ushort> symbols, Span<long> error)
    {
        int m = levels.Length;
        long[] reconstructed = ArrayPool<long>.Shared.Rent(m * MagnitudeBlock.MaxLevels);
        try
        {
            for (int b = 0; b < m; b++)
            {
                if (!pending[b]) continue;
                error[b] = 0;
                for (int q = 0; q < levels[b]; q++)
                    reconstructed[b * MagnitudeBlock.MaxLevels + q] = ToFixed(MagnitudeBlock.Reconstruct(low[b], step[b], q), (float)scale);
            }
            float fixedScale = (float)scale;
            if (m == 1 && GuardPassVector.Applies(1, inverse[..1]))
                error[0] = GuardPassVector.QuantizeOneBlock(keys, fixedScale, blockOf, levels[0], low[0], inverse[0], budget[0],
                    reconstructed.AsSpan(0, levels[0]), symbols);
            else if (m == 1) QuantizeOneBlock(keys, fixedScale, blockOf, levels[0], low[0], inverse[0], budget[0], reconstructed, symbols, ref error[0]);
            else QuantizeBlocks(keys, fixedScale, blockOf, blockOfBin, levels, low, inverse, pending, budget, reconstructed, symbols, error);
        }
        finally { ArrayPool<long>.Shared.Return(reconstructed); }
    }

    /// <summary>The common case after merging: one block, no per-element block lookups.</summary>
    private static void QuantizeOneBlock(ReadOnlySpan<uint> keys, float fixedScale, ReadOnlySpan<byte> signs,
        int levels, float low, float inverse, long budget, long[] reconstructed, Span<ushort> symbols, ref long error)
    {
        int top = levels - 1;
        float topLevel = top;
        int keepZeroSign = low == 0 ? 0 : 1; // level 0 reconstructs exactly 0 when low is 0: it carries no sign
        bool final = top >= MagnitudeBlock.MaxLevels - 1;
        long total = 0;
        var recon = reconstructed.AsSpan(0, levels);
        for (int j = 0; j < keys.Length; j++)
        {
            // Branch-free on purpose: zeros and signs are random, and mispredictions cost more than the arithmetic.
            float magnitude = BitConverter.UInt32BitsToSingle(keys[j]);
            float u = (magnitude - low) * inverse + 0.5f;
            int q = (int)Math.Min(Math.Max(u, 0f), topLevel);
            int sign = (signs[j] >> 7) & ((q | keepZeroSign) != 0 ? 1 : 0);
            symbols[j] = (ushort)(2 * q + sign);
            long e = (long)(magnitude * fixedScale + 0.5f) - recon[q];
            total += e * e;
            if (total > budget)
            {
                if (!final) break; // this block will get more levels
                total = Math.Min(total, long.MaxValue / 2);
            }
        }
        error = total;
    }

    private static void QuantizeBlocks(ReadOnlySpan<uint> keys, float fixedScale, ReadOnlySpan<byte> blockOf,
        ReadOnlySpan<byte> blockOfBin, ReadOnlySpan<int> levels, ReadOnlySpan<float> low, ReadOnlySpan<float> inverse, ReadOnlySpan<bool> pending,
        ReadOnlySpan<long> budget, long[] reconstructed, Span<ushort> symbols, Span<long> error)
    {
        int m = levels.Length;
        if (GuardPassVector.Applies(m, inverse))
        {
            Span<bool> active = stackalloc bool[m];
            pending.CopyTo(active);
            GuardPassVector.QuantizeBlocks(keys, fixedScale, blockOf, blockOfBin, levels, low, inverse, active, budget,
                reconstructed.AsSpan(0, m * MagnitudeBlock.MaxLevels), symbols, error);
            return;
        }
        // One record per block keeps the per-element lookups to a single bounds-checked load.
        Span<BlockQuantizer> quantizers = stackalloc BlockQuantizer[m];
        for (int b = 0; b < m; b++)
            quantizers[b] = new BlockQuantizer(low[b], inverse[b], levels[b] - 1, low[b] == 0 ? 0 : 1, pending[b], b * MagnitudeBlock.MaxLevels);
        // Errors go to 8 slots per block (by element index), so consecutive elements of one block do not wait on
        // each other's read-modify-write; the budget is checked every 1024 elements instead of every element.
        const int Slots = 8, CheckEvery = 1024;
        Span<long> slots = stackalloc long[m * Slots];
        slots.Clear();
        for (int start = 0; start < keys.Length; start += CheckEvery)
        {
            int end = Math.Min(keys.Length, start + CheckEvery);
            for (int j = start; j < end; j++)
            {
                uint key = keys[j];
                int b = blockOfBin[(int)(key >> HistogramShift)];
                ref readonly var block = ref quantizers[b];
                if (!block.Active) continue;
                float magnitude = BitConverter.UInt32BitsToSingle(key);
                float u = (magnitude - block.Low) * block.Inverse + 0.5f;
                int q = (int)Math.Min(Math.Max(u, 0f), block.Top);
                int sign = (blockOf[j] >> 7) & ((q | block.KeepZeroSign) != 0 ? 1 : 0);
                symbols[j] = (ushort)(2 * q + sign);
                long e = (long)(magnitude * fixedScale + 0.5f) - reconstructed[block.TableOffset + q];
                slots[b * Slots + (j & (Slots - 1))] += e * e;
            }
            for (int b = 0; b < m; b++)
            {
                if (!quantizers[b].Active) continue;
                long total = error[b];
                for (int s = 0; s < Slots; s++) total += slots[b * Slots + s];
                slots.Slice(b * Slots, Slots).Clear();
                total = Math.Min(total, long.MaxValue / 4); // a chunk adds at most 1024 * 2^52
                error[b] = total;
                // Over budget: this block will get more levels, unless it already has the most (then it is final).
                if (total > budget[b] && levels[b] < MagnitudeBlock.MaxLevels) quantizers[b].Active = false;
            }
        }
    }

    private struct BlockQuantizer(float low, float inverse, float top, int keepZeroSign, bool active, int tableOffset)
    {
        public readonly float Low = low, Inverse = inverse, Top = top;
        public readonly int KeepZeroSign = keepZeroSign, TableOffset = tableOffset;
        public bool Active = active;
    }

    /// <summary>
    /// The guard's fixed-point form of a magnitude, round(v · scale) computed in float32 exactly as for the inputs
    /// (inputs are at most 2^24 by construction; a reconstruction beyond 2^26, only possible through float
    /// overflow, saturates, so a squared difference stays below 2^52).
    /// </summary>
    private static long ToFixed(float v, float scale)
    {
        float f = v * scale + 0.5f;
        return f < (float)(1L << 26) ? (long)f : 1L << 26;
    }
}
