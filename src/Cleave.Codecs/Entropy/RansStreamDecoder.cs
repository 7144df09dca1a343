using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Cleave.Codecs.Entropy;

/// <summary>
/// The interleaved rANS decoder core. Two tables indexed by slot = x mod 2^t: the symbol, and (frequency | (slot - start)
/// &lt;&lt; 16), so one step is x' = f * (x &gt;&gt; t) + (slot - start), then a 16-bit refill while x' &lt; 2^16.
/// With AVX2 and 8, 16 or 32 lanes, eight states step at once (two gathers, then a refill through a permutation table,
/// or vpexpandd where AVX-512 VL exists); otherwise, and near the end of the stream, a scalar loop does the same steps
/// in the same order.
/// Every read is bounds-checked against the stream end, so corrupt input ends in a FrameFormatException.
/// </summary>
internal static unsafe class RansStreamDecoder
{
    private const uint L = RansStreamEncoder.StateLowerBound;

    /// <summary>Lane i of entry m is the index of the word lane i takes when the lanes in mask m refill (prefix count).</summary>
    private static readonly uint[] RefillPermutationTable = BuildRefillPermutations();

    /// <summary>The table lives on the pinned object heap, so this pointer stays valid while the field holds it.</summary>
    private static readonly uint* RefillPermutations =
        (uint*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(RefillPermutationTable));

    /// <summary>Set by tests (per thread) to run the scalar path where the vector one would run, to compare them.</summary>
    [ThreadStatic] internal static bool ForceScalar;

    /// <summary>
    /// Decodes destination.Length symbols from <paramref name="stream"/> (states, then words) and checks that every
    /// word was used and every state ended at the encoder's initial value.
    /// </summary>
    public static void Decode<T>(ReadOnlySpan<byte> stream, Span<T> destination, int lanes, int scaleBits,
        ReadOnlySpan<int> slotSymbols, ReadOnlySpan<uint> slotSteps) where T : unmanaged
    {
        if (stream.Length < 4 * lanes || (stream.Length & 1) != 0)
            throw new FrameFormatException(FrameError.CorruptPayload, $"rANS stream of {stream.Length} bytes cannot hold {lanes} states and whole words");
        uint* states = stackalloc uint[lanes];
        for (int j = 0; j < lanes; j++)
        {
            uint x = MemoryMarshal.Read<uint>(stream.Slice(4 * j));
            if (x < L) throw new FrameFormatException(FrameError.CorruptPayload, "rANS stream starts with an invalid state");
            states[j] = x;
        }
        int n = destination.Length;
        fixed (byte* streamStart = stream)
        fixed (T* output = destination)
        fixed (int* symbols = slotSymbols)
        fixed (uint* steps = slotSteps)
        {
            ushort* p = (ushort*)(streamStart + 4 * lanes);
            ushort* end = (ushort*)(streamStart + stream.Length);
            int i = 0;
            if (!ForceScalar && Avx2.IsSupported && lanes == 32)
                i = DecodeAvx2Lanes32(output, n, ref p, end, states, scaleBits, symbols, steps);
            else if (!ForceScalar && Avx2.IsSupported && (lanes == 8 || lanes == 16))
                i = DecodeAvx2(output, n, ref p, end, states, lanes, scaleBits, symbols, steps);
            DecodeScalar(output, i, n, ref p, end, states, lanes, scaleBits, symbols, steps);
            if (p != end)
                throw new FrameFormatException(FrameError.CorruptPayload, $"rANS stream has {(end - p) * 2} unused bytes");
        }
        for (int j = 0; j < lanes; j++)
            if (states[j] != L)
                throw new FrameFormatException(FrameError.CorruptPayload, "rANS stream is corrupt (final state check failed)");
    }

    private static void DecodeScalar<T>(T* output, int i, int n, ref ushort* p, ushort* end, uint* states, int lanes,
        int scaleBits, int* symbols, uint* steps) where T : unmanaged
    {
        uint mask = (1u << scaleBits) - 1;
        int lastGroup = n - n % lanes;
        ushort* q = p;
        while (i < lastGroup)
        {
            if (end - q >= lanes)
            {
                // A group reads at most one word per lane: no bounds checks needed inside it.
                for (int j = 0; j < lanes; j++, i++)
                {
                    uint x = states[j];
                    uint slot = x & mask;
                    Store(output, i, symbols[slot]);
                    uint step = steps[slot];
                    x = (step & 0xFFFF) * (x >> scaleBits) + (step >> 16);
                    uint word = *q;
                    int refill = x < L ? 1 : 0;
                    x = refill != 0 ? (x << 16) | word : x;
                    q += refill;
                    states[j] = x;
                }
            }
            else
            {
                for (int j = 0; j < lanes; j++, i++) states[j] = CheckedStep(output, i, ref q, end, states[j], scaleBits, mask, symbols, steps);
            }
        }
        for (int j = 0; i < n; j++, i++) states[j] = CheckedStep(output, i, ref q, end, states[j], scaleBits, mask, symbols, steps);
        p = q;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint CheckedStep<T>(T* output, int i, ref ushort* q, ushort* end, uint x, int scaleBits, uint mask,
        int* symbols, uint* steps) where T : unmanaged
    {
        uint slot = x & mask;
        Store(output, i, symbols[slot]);
        uint step = steps[slot];
        x = (step & 0xFFFF) * (x >> scaleBits) + (step >> 16);
        if (x < L)
        {
            if (q >= end) throw new FrameFormatException(FrameError.Truncated, "rANS stream ends early");
            x = (x << 16) | *q++;
        }
        return x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(T* output, int i, int symbol) where T : unmanaged
    {
        if (typeof(T) == typeof(byte)) ((byte*)output)[i] = (byte)symbol;
        else ((ushort*)output)[i] = (ushort)symbol;
    }

    /// <summary>Decodes whole groups with AVX2 while 16 words remain; returns the index of the first symbol left.</summary>
    private static int DecodeAvx2<T>(T* output, int n, ref ushort* p, ushort* end, uint* states, int lanes, int scaleBits,
        int* symbols, uint* steps) where T : unmanaged
    {
        var slotMask = Vector256.Create((1u << scaleBits) - 1);
        var low16 = Vector256.Create(0xFFFFu);
        int shift = scaleBits;
        Vector256<uint> xa = Avx.LoadVector256(states);
        Vector256<uint> xb = lanes == 16 ? Avx.LoadVector256(states + 8) : default;
        int groups = n / lanes;
        int i = 0;
        ushort* q = p;
        for (int g = 0; g < groups; g++, i += lanes)
        {
            if (end - q < 16) break;
            Vector256<int> slotA = Avx2.And(xa, slotMask).AsInt32();
            Vector256<int> symA = Avx2.GatherVector256(symbols, slotA, 4);
            Vector256<uint> stepA = Avx2.GatherVector256(steps, slotA, 4);
            xa = Avx2.Add(Avx2.MultiplyLow(Avx2.And(stepA, low16), (xa >>> shift)), Avx2.ShiftRightLogical(stepA, 16));
            if (lanes == 16)
            {
                Vector256<int> slotB = Avx2.And(xb, slotMask).AsInt32();
                Vector256<int> symB = Avx2.GatherVector256(symbols, slotB, 4);
                Vector256<uint> stepB = Avx2.GatherVector256(steps, slotB, 4);
                xb = Avx2.Add(Avx2.MultiplyLow(Avx2.And(stepB, low16), (xb >>> shift)), Avx2.ShiftRightLogical(stepB, 16));
                Vector256<ushort> sym16 = Vector256.Narrow(symA.AsUInt32(), symB.AsUInt32());
                if (typeof(T) == typeof(byte)) Vector256.Narrow(sym16, sym16).GetLower().Store((byte*)output + i);
                else sym16.Store((ushort*)output + i);
                xa = Refill(xa, ref q);
                xb = Refill(xb, ref q);
            }
            else
            {
                Vector128<ushort> sym8 = Vector256.Narrow(symA.AsUInt32(), symA.AsUInt32()).GetLower();
                if (typeof(T) == typeof(byte)) *(ulong*)((byte*)output + i) = Vector128.Narrow(sym8, sym8).AsUInt64().ToScalar();
                else sym8.Store((ushort*)output + i);
                xa = Refill(xa, ref q);
            }
        }
        xa.Store(states);
        if (lanes == 16) xb.Store(states + 8);
        p = q;
        return i;
    }

    /// <summary>32 lanes as four vectors: twice the independent work of 16, which hides the gather latency.</summary>
    private static int DecodeAvx2Lanes32<T>(T* output, int n, ref ushort* p, ushort* end, uint* states, int scaleBits,
        int* symbols, uint* steps) where T : unmanaged
    {
        var slotMask = Vector256.Create((1u << scaleBits) - 1);
        Vector256<uint> xa = Avx.LoadVector256(states), xb = Avx.LoadVector256(states + 8);
        Vector256<uint> xc = Avx.LoadVector256(states + 16), xd = Avx.LoadVector256(states + 24);
        int groups = n / 32;
        int i = 0;
        ushort* q = p;
        for (int g = 0; g < groups; g++, i += 32)
        {
            // Four refills read at most 8 words each, from where the previous one stopped.
            if (end - q < 32) break;
            Vector256<uint> symA = DecodeVector(ref xa, slotMask, scaleBits, symbols, steps);
            Vector256<uint> symB = DecodeVector(ref xb, slotMask, scaleBits, symbols, steps);
            Vector256<uint> symC = DecodeVector(ref xc, slotMask, scaleBits, symbols, steps);
            Vector256<uint> symD = DecodeVector(ref xd, slotMask, scaleBits, symbols, steps);
            Vector256<ushort> low = Vector256.Narrow(symA, symB), high = Vector256.Narrow(symC, symD);
            if (typeof(T) == typeof(byte)) Vector256.Narrow(low, high).Store((byte*)output + i);
            else
            {
                low.Store((ushort*)output + i);
                high.Store((ushort*)output + i + 16);
            }
            xa = Refill(xa, ref q);
            xb = Refill(xb, ref q);
            xc = Refill(xc, ref q);
            xd = Refill(xd, ref q);
        }
        xa.Store(states);
        xb.Store(states + 8);
        xc.Store(states + 16);
        xd.Store(states + 24);
        p = q;
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> DecodeVector(ref Vector256<uint> x, Vector256<uint> slotMask, int shift, int* symbols, uint* steps)
    {
        Vector256<int> slot = Avx2.And(x, slotMask).AsInt32();
        Vector256<int> symbol = Avx2.GatherVector256(symbols, slot, 4);
        Vector256<uint> step = Avx2.GatherVector256(steps, slot, 4);
        x = Avx2.Add(Avx2.MultiplyLow(Avx2.And(step, Vector256.Create(0xFFFFu)), x >>> shift), Avx2.ShiftRightLogical(step, 16));
        return symbol.AsUInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Refill(Vector256<uint> x, ref ushort* q)
    {
        if (Avx512F.VL.IsSupported)
        {
            // AVX-512: vpexpandd puts consecutive words into the lanes that need them, no permutation table lookup
            // on the state's dependency chain.
            Vector256<uint> lanesNeeding = Avx512F.VL.CompareLessThan(x, Vector256.Create(L));
            Vector256<uint> loaded = Avx2.ConvertToVector256Int32(q).AsUInt32();
            Vector256<uint> expanded = Avx512F.VL.Expand(Vector256<uint>.Zero, lanesNeeding, loaded);
            q += BitOperations.PopCount(lanesNeeding.ExtractMostSignificantBits());
            return Vector256.ConditionalSelect(lanesNeeding, Avx2.Or(Avx2.ShiftLeftLogical(x, 16), expanded), x);
        }
        Vector256<uint> needs = Avx2.CompareEqual(Avx2.ShiftRightLogical(x, 16), Vector256<uint>.Zero);
        uint mask = (uint)Avx.MoveMask(needs.AsSingle());
        Vector256<uint> words = Avx2.ConvertToVector256Int32(q).AsUInt32();
        Vector256<uint> fresh = Avx2.PermuteVar8x32(words, Avx.LoadVector256(RefillPermutations + mask * 8));
        x = Avx2.BlendVariable(x, Avx2.Or(Avx2.ShiftLeftLogical(x, 16), fresh), needs);
        q += BitOperations.PopCount(mask);
        return x;
    }

    private static uint[] BuildRefillPermutations()
    {
        uint[] table = GC.AllocateArray<uint>(256 * 8, pinned: true);
        for (int mask = 0; mask < 256; mask++)
        {
            uint next = 0;
            for (int lane = 0; lane < 8; lane++)
                if ((mask & (1 << lane)) != 0) table[mask * 8 + lane] = next++;
        }
        return table;
    }
}
