using System.Runtime.CompilerServices;

namespace Cleave.Codecs.Entropy;

/// <summary>
/// The interleaved rANS encoder core: 32-bit states in [2^16, 2^32), 16-bit renormalization, symbol i coded by state
/// i mod lanes. It runs backwards over the symbols and writes the words backwards, so the decoder reads forwards.
/// </summary>
internal static unsafe class RansStreamEncoder
{
    public const uint StateLowerBound = 1u << 16;

    /// <summary>Bytes the stream can take at most: one word per symbol, the final states, one spare word.</summary>
    public static int MaxStreamBytes(int symbolCount, int lanes) => 2 * symbolCount + 4 * lanes + 2;

    /// <summary>
    /// Encodes into the end of <paramref name="buffer"/> (length &gt;= <see cref="MaxStreamBytes"/>) and returns the
    /// stream length; the stream occupies the last bytes: the lane states (uint32 LE, lane 0 first), then the words.
    /// </summary>
    public static int Encode<T>(ReadOnlySpan<T> symbols, ReadOnlySpan<RansEncodeSymbol> table, int lanes, Span<byte> buffer)
        where T : unmanaged
    {
        int n = symbols.Length;
        int laneMask = lanes - 1;
        uint* states = stackalloc uint[lanes];
        for (int j = 0; j < lanes; j++) states[j] = StateLowerBound;

        fixed (T* source = symbols)
        fixed (RansEncodeSymbol* entries = table)
        fixed (byte* bufferStart = buffer)
        {
            // The buffer end is kept even-aligned relative to its start so words never straddle the start.
            byte* bufferEnd = bufferStart + (buffer.Length & ~1);
            ushort* p = (ushort*)bufferEnd;
            int i = n - 1;
            if (lanes >= 16)
            {
                // The partial last group first, then whole groups, 16 lanes at a time with their states in locals
                // (fewer address computations than indexing by i mod lanes); lanes run from the last to the first.
                int whole = n & ~laneMask;
                for (; i >= whole; i--) states[i & laneMask] = Step(states[i & laneMask], Load(source, i), entries, ref p);
                for (int g = whole - lanes; g >= 0; g -= lanes)
                    for (int h = lanes - 16; h >= 0; h -= 16)
                        EncodeSixteen(states + h, source, g + h, entries, ref p);
                i = -1;
            }
            // Any lane count: symbol i belongs to lane i mod lanes.
            for (; i >= 0; i--)
            {
                ref uint state = ref states[i & laneMask];
                state = Step(state, Load(source, i), entries, ref p);
            }
            uint* stateOut = (uint*)p - lanes;
            for (int j = 0; j < lanes; j++) WriteLittleEndian(stateOut + j, states[j]);
            return (int)(bufferEnd - (byte*)stateOut);
        }
    }

    /// <summary>Encodes symbols first..first+15 (last to first) with lanes states[0..15].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void EncodeSixteen<T>(uint* states, T* source, int first, RansEncodeSymbol* entries, ref ushort* p)
        where T : unmanaged
    {
        uint x0 = states[0], x1 = states[1], x2 = states[2], x3 = states[3], x4 = states[4], x5 = states[5],
            x6 = states[6], x7 = states[7], x8 = states[8], x9 = states[9], x10 = states[10], x11 = states[11],
            x12 = states[12], x13 = states[13], x14 = states[14], x15 = states[15];
        x15 = Step(x15, Load(source, first + 15), entries, ref p);
        x14 = Step(x14, Load(source, first + 14), entries, ref p);
        x13 = Step(x13, Load(source, first + 13), entries, ref p);
        x12 = Step(x12, Load(source, first + 12), entries, ref p);
        x11 = Step(x11, Load(source, first + 11), entries, ref p);
        x10 = Step(x10, Load(source, first + 10), entries, ref p);
        x9 = Step(x9, Load(source, first + 9), entries, ref p);
        x8 = Step(x8, Load(source, first + 8), entries, ref p);
        x7 = Step(x7, Load(source, first + 7), entries, ref p);
        x6 = Step(x6, Load(source, first + 6), entries, ref p);
        x5 = Step(x5, Load(source, first + 5), entries, ref p);
        x4 = Step(x4, Load(source, first + 4), entries, ref p);
        x3 = Step(x3, Load(source, first + 3), entries, ref p);
        x2 = Step(x2, Load(source, first + 2), entries, ref p);
        x1 = Step(x1, Load(source, first + 1), entries, ref p);
        x0 = Step(x0, Load(source, first), entries, ref p);
        states[0] = x0; states[1] = x1; states[2] = x2; states[3] = x3; states[4] = x4; states[5] = x5;
        states[6] = x6; states[7] = x7; states[8] = x8; states[9] = x9; states[10] = x10; states[11] = x11;
        states[12] = x12; states[13] = x13; states[14] = x14; states[15] = x15;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Load<T>(T* source, int i) where T : unmanaged =>
        typeof(T) == typeof(byte) ? ((byte*)source)[i] : ((ushort*)source)[i];

    /// <summary>One encoder step: renormalize (branch-free), then x = C(s, x) with the reciprocal.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Step(uint x, uint symbol, RansEncodeSymbol* entries, ref ushort* p)
    {
        RansEncodeSymbol* e = entries + symbol;
        // Always store the low word; keep it (move the pointer) only when x is too large for this symbol.
        int emit = x >= e->StateLimit ? 1 : 0;
        p[-1] = (ushort)x;
        p -= emit;
        x >>= emit << 4;
        ulong q = Math.BigMul(x, e->Reciprocal, out _);
        return x + e->Bias + (uint)q * e->Complement;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteLittleEndian(uint* destination, uint value) =>
        Unsafe.WriteUnaligned(destination, BitConverter.IsLittleEndian ? value : System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(value));
}
