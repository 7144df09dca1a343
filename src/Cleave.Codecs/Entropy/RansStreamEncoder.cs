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
            // Whole groups from the back: lane order reversed inside a group so the decoder reads lanes in order.
            for (; i >= 0; i--)
            {
                uint s = typeof(T) == typeof(byte) ? ((byte*)source)[i] : ((ushort*)source)[i];
                RansEncodeSymbol* e = entries + s;
                ref uint state = ref states[i & laneMask];
                uint x = state;
                // Branch-free renormalization: always store the low word, keep it only when x is too large.
                int emit = x >= e->StateLimit ? 1 : 0;
                p[-1] = (ushort)x;
                p -= emit;
                x >>= emit << 4;
                ulong q = Math.BigMul(x, e->Reciprocal, out _);
                state = x + e->Bias + (uint)q * e->Complement;
            }
            uint* stateOut = (uint*)p - lanes;
            for (int j = 0; j < lanes; j++) WriteLittleEndian(stateOut + j, states[j]);
            return (int)(bufferEnd - (byte*)stateOut);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteLittleEndian(uint* destination, uint value) =>
        Unsafe.WriteUnaligned(destination, BitConverter.IsLittleEndian ? value : System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(value));
}
