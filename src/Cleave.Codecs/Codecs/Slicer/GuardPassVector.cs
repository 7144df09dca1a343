using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Cleave.Codecs;

/// <summary>
/// AVX2 form of the slicer's multi-block guard pass (<c>SlicerEncoder.QuantizeBlocks</c>): the same float32 operations
/// in the same order (no fused multiply-add), the block of an element found by comparing its key with the blocks' first
/// keys, the fixed-point squares exact in int64 (<c>vpmuldq</c>), and the budget checked at the same 1024-element
/// chunk boundaries, so symbols, errors and therefore the bitstream are identical to the scalar pass.
/// </summary>
internal static unsafe class GuardPassVector
{
    private const int HistogramShift = 20, ChunkSize = 1024;

    /// <summary>
    /// Whether the vector pass applies: AVX2, at most 8 blocks (one permute table), and finite reciprocal steps (an
    /// infinite one could make a NaN, which scalar and vector min/max treat differently).
    /// </summary>
    public static bool Applies(int blockCount, ReadOnlySpan<float> inverse)
    {
        if (!Avx2.IsSupported || blockCount > 8) return false;
        foreach (float v in inverse) if (!float.IsFinite(v)) return false;
        return true;
    }

    /// <summary>
    /// Quantizes every element (symbols of inactive blocks are rewritten with unchanged parameters, so they keep their
    /// values) and adds the squared errors of active blocks to <paramref name="error"/> chunk by chunk, deactivating a
    /// block over budget exactly as the scalar pass does. <paramref name="reconstructed"/>: block b's fixed-point levels
    /// at b · 256 (all below 2^27).
    /// </summary>
    public static void QuantizeBlocks(ReadOnlySpan<uint> keys, float fixedScale, ReadOnlySpan<byte> signs,
        ReadOnlySpan<byte> blockOfBin, ReadOnlySpan<int> levels, ReadOnlySpan<float> low, ReadOnlySpan<float> inverse,
        Span<bool> active, ReadOnlySpan<long> budget, ReadOnlySpan<long> reconstructed, Span<ushort> symbols, Span<long> error)
    {
        int m = levels.Length;
        // Per-block parameters, one lane per block, picked per element by a permute on its block index.
        float* lowTable = stackalloc float[8], inverseTable = stackalloc float[8], topTable = stackalloc float[8];
        int* keepZeroTable = stackalloc int[8];
        for (int b = 0; b < 8; b++)
        {
            bool used = b < m;
            lowTable[b] = used ? low[b] : 0;
            inverseTable[b] = used ? inverse[b] : 0;
            topTable[b] = used ? levels[b] - 1 : 0;
            keepZeroTable[b] = used && low[b] != 0 ? 1 : 0;
        }
        int* recon = stackalloc int[m * MagnitudeBlock.MaxLevels];
        for (int b = 0; b < m; b++)
            for (int q = 0; q < levels[b]; q++)
                recon[b * MagnitudeBlock.MaxLevels + q] = (int)reconstructed[b * MagnitudeBlock.MaxLevels + q];
        // Block b (b >= 1) starts at the first histogram bin mapped to it; keys are below 2^31, so signed compares work.
        var firstKeyMinusOne = stackalloc Vector256<int>[8];
        for (int b = 1, bin = 0; b < m; b++)
        {
            while (blockOfBin[bin] < b) bin++;
            firstKeyMinusOne[b] = Vector256.Create((bin << HistogramShift) - 1);
        }

        var lows = Vector256.Load(lowTable).AsInt32();
        var inverses = Vector256.Load(inverseTable).AsInt32();
        var tops = Vector256.Load(topTable).AsInt32();
        var keepZeros = Vector256.Load(keepZeroTable);
        var scale = Vector256.Create(fixedScale);
        var half = Vector256.Create(0.5f);
        var one = Vector256.Create(1);
        long* chunk = stackalloc long[8];
        var sums = stackalloc Vector256<long>[8];

        fixed (uint* keyStart = keys)
        fixed (byte* signStart = signs)
        fixed (ushort* symbolStart = symbols)
        {
            for (int start = 0; start < keys.Length; start += ChunkSize)
            {
                int end = Math.Min(keys.Length, start + ChunkSize);
                for (int b = 0; b < m; b++) sums[b] = Vector256<long>.Zero;
                int j = start;
                for (; j + 8 <= end; j += 8)
                {
                    var key = Avx.LoadVector256((int*)keyStart + j);
                    var block = Vector256<int>.Zero;
                    for (int b = 1; b < m; b++) block -= Avx2.CompareGreaterThan(key, firstKeyMinusOne[b]);
                    var magnitude = key.AsSingle();
                    var u = Avx.Add(Avx.Multiply(Avx.Subtract(magnitude, Avx2.PermuteVar8x32(lows, block).AsSingle()),
                        Avx2.PermuteVar8x32(inverses, block).AsSingle()), half);
                    var q = Avx.ConvertToVector256Int32WithTruncation(
                        Avx.Min(Avx.Max(u, Vector256<float>.Zero), Avx2.PermuteVar8x32(tops, block).AsSingle()));
                    var signBit = Avx2.ShiftRightLogical(Avx2.ConvertToVector256Int32(signStart + j), 7);
                    var hasSign = Avx2.CompareEqual(Avx2.Or(q, Avx2.PermuteVar8x32(keepZeros, block)), Vector256<int>.Zero);
                    var symbol = Avx2.Add(Avx2.Add(q, q), Avx2.AndNot(hasSign, Avx2.And(signBit, one)));
                    var packed = Avx2.PackUnsignedSaturate(symbol, symbol); // lanes 0-3 and 4-7 in the two 64-bit halves
                    *(ulong*)(symbolStart + j) = packed.AsUInt64().GetElement(0);
                    *(ulong*)(symbolStart + j + 4) = packed.AsUInt64().GetElement(2);

                    var fixedMagnitude = Avx.ConvertToVector256Int32WithTruncation(Avx.Add(Avx.Multiply(magnitude, scale), half));
                    var index = Avx2.Add(Avx2.ShiftLeftLogical(block, 8), q);
                    var e = Avx2.Subtract(fixedMagnitude, Avx2.GatherVector256(recon, index, 4));
                    for (int b = 0; b < m; b++)
                    {
                        var mine = m == 1 ? e : Avx2.And(e, Avx2.CompareEqual(block, Vector256.Create(b)));
                        var odd = Avx2.ShiftRightLogical(mine.AsInt64(), 32).AsInt32();
                        sums[b] = Avx2.Add(sums[b], Avx2.Add(Avx2.Multiply(mine, mine), Avx2.Multiply(odd, odd)));
                    }
                }
                for (int b = 0; b < m; b++)
                {
                    var s = sums[b];
                    chunk[b] = s.GetElement(0) + s.GetElement(1) + s.GetElement(2) + s.GetElement(3);
                }
                for (; j < end; j++)
                {
                    // The scalar form (the tensor's tail).
                    uint key = keys[j];
                    int b = blockOfBin[(int)(key >> HistogramShift)];
                    float magnitude = BitConverter.UInt32BitsToSingle(key);
                    float u = (magnitude - low[b]) * inverse[b] + 0.5f;
                    int q = (int)Math.Min(Math.Max(u, 0f), (float)(levels[b] - 1));
                    int sign = (signs[j] >> 7) & ((q | (low[b] == 0 ? 0 : 1)) != 0 ? 1 : 0);
                    symbols[j] = (ushort)(2 * q + sign);
                    long e = (long)(magnitude * fixedScale + 0.5f) - reconstructed[b * MagnitudeBlock.MaxLevels + q];
                    chunk[b] += e * e;
                }

                for (int b = 0; b < m; b++)
                {
                    if (!active[b]) continue;
                    long total = Math.Min(error[b] + chunk[b], long.MaxValue / 4); // a chunk adds at most 1024 * 2^54
                    error[b] = total;
                    if (total > budget[b] && levels[b] < MagnitudeBlock.MaxLevels) active[b] = false;
                }
            }
        }
    }
    /// <summary>
    /// The one-block pass (<c>SlicerEncoder.QuantizeOneBlock</c>): 8 elements at a time while the running error stays
    /// within budget; the 8 that cross it are redone one by one with the scalar rule, so the pass stops (or, for a
    /// final block, starts saturating) at exactly the same element with exactly the same error.
    /// </summary>
    public static long QuantizeOneBlock(ReadOnlySpan<uint> keys, float fixedScale, ReadOnlySpan<byte> signs,
        int levels, float low, float inverse, long budget, ReadOnlySpan<long> reconstructed, Span<ushort> symbols)
    {
        const long Saturated = long.MaxValue / 2;
        int top = levels - 1;
        int keepZeroSign = low == 0 ? 0 : 1;
        bool final = top >= MagnitudeBlock.MaxLevels - 1;
        int* recon = stackalloc int[levels];
        for (int q = 0; q < levels; q++) recon[q] = (int)reconstructed[q];
        var lows = Vector256.Create(low);
        var inverses = Vector256.Create(inverse);
        var tops = Vector256.Create((float)top);
        var keepZeros = Vector256.Create(keepZeroSign);
        var scale = Vector256.Create(fixedScale);
        var half = Vector256.Create(0.5f);
        var one = Vector256.Create(1);
        long total = 0;
        int j = 0;
        fixed (uint* keyStart = keys)
        fixed (byte* signStart = signs)
        fixed (ushort* symbolStart = symbols)
        {
            for (; j + 8 <= keys.Length; j += 8)
            {
                var key = Avx.LoadVector256((int*)keyStart + j);
                var magnitude = key.AsSingle();
                var u = Avx.Add(Avx.Multiply(Avx.Subtract(magnitude, lows), inverses), half);
                var q = Avx.ConvertToVector256Int32WithTruncation(Avx.Min(Avx.Max(u, Vector256<float>.Zero), tops));
                var signBit = Avx2.ShiftRightLogical(Avx2.ConvertToVector256Int32(signStart + j), 7);
                var hasSign = Avx2.CompareEqual(Avx2.Or(q, keepZeros), Vector256<int>.Zero);
                var symbol = Avx2.Add(Avx2.Add(q, q), Avx2.AndNot(hasSign, Avx2.And(signBit, one)));
                var packed = Avx2.PackUnsignedSaturate(symbol, symbol);
                *(ulong*)(symbolStart + j) = packed.AsUInt64().GetElement(0);
                *(ulong*)(symbolStart + j + 4) = packed.AsUInt64().GetElement(2);
                var fixedMagnitude = Avx.ConvertToVector256Int32WithTruncation(Avx.Add(Avx.Multiply(magnitude, scale), half));
                var e = Avx2.Subtract(fixedMagnitude, Avx2.GatherVector256(recon, q, 4));
                var odd = Avx2.ShiftRightLogical(e.AsInt64(), 32).AsInt32();
                var squares = Avx2.Add(Avx2.Multiply(e, e), Avx2.Multiply(odd, odd));
                long sum = squares.GetElement(0) + squares.GetElement(1) + squares.GetElement(2) + squares.GetElement(3); // < 2^57
                if (total + sum <= budget) { total += sum; continue; }
                // Over budget already and saturating below it: min(min(t + a, S) + b, S) = min(t + a + b, S).
                if (final && total > budget && budget < Saturated) { total = Math.Min(total + sum, Saturated); continue; }
                for (int i = j; i < j + 8; i++)
                {
                    long d = (long)(BitConverter.UInt32BitsToSingle(keys[i]) * fixedScale + 0.5f) - recon[q.GetElement(i - j)];
                    total += d * d;
                    if (total > budget)
                    {
                        if (!final) return total; // this block will get more levels
                        total = Math.Min(total, Saturated);
                    }
                }
            }
        }
        for (; j < keys.Length; j++)
        {
            float magnitude = BitConverter.UInt32BitsToSingle(keys[j]);
            float u = (magnitude - low) * inverse + 0.5f;
            int q = (int)Math.Min(Math.Max(u, 0f), (float)top);
            int sign = (signs[j] >> 7) & ((q | keepZeroSign) != 0 ? 1 : 0);
            symbols[j] = (ushort)(2 * q + sign);
            long e = (long)(magnitude * fixedScale + 0.5f) - reconstructed[q];
            total += e * e;
            if (total > budget)
            {
                if (!final) break;
                total = Math.Min(total, Saturated);
            }
        }
        return total;
    }
    /// <summary>
    /// Adds each element's block base to its local symbol (the scalar loop in SlicerEncoder, 8 at a time); blocks are
    /// contiguous bin ranges, so the block is the count of block starts at or below the key. At most 8 blocks.
    /// </summary>
    public static void AddBases(ReadOnlySpan<uint> keys, ReadOnlySpan<byte> blockOfBin, ReadOnlySpan<int> baseOf, Span<ushort> symbols)
    {
        int m = baseOf.Length;
        int* baseTable = stackalloc int[8];
        for (int b = 0; b < 8; b++) baseTable[b] = b < m ? baseOf[b] : 0;
        var firstKeyMinusOne = stackalloc Vector256<int>[8];
        for (int b = 1, bin = 0; b < m; b++)
        {
            while (blockOfBin[bin] < b) bin++;
            firstKeyMinusOne[b] = Vector256.Create((bin << HistogramShift) - 1);
        }
        var bases = Vector256.Load(baseTable);
        int j = 0;
        fixed (uint* keyStart = keys)
        fixed (ushort* symbolStart = symbols)
        {
            for (; j + 8 <= keys.Length; j += 8)
            {
                var key = Avx.LoadVector256((int*)keyStart + j);
                var block = Vector256<int>.Zero;
                for (int b = 1; b < m; b++) block -= Avx2.CompareGreaterThan(key, firstKeyMinusOne[b]);
                var add = Avx2.PermuteVar8x32(bases, block);
                var packed = Avx2.PackUnsignedSaturate(add, add).AsUInt64();
                var sum = Sse2.Add(Vector128.Create(packed.GetElement(0), packed.GetElement(2)).AsUInt16(),
                    Sse2.LoadVector128(symbolStart + j)); // wraps like the scalar ushort addition
                Sse2.Store(symbolStart + j, sum);
            }
        }
        for (; j < keys.Length; j++) symbols[j] += (ushort)baseOf[blockOfBin[(int)(keys[j] >> HistogramShift)]];
    }
}
