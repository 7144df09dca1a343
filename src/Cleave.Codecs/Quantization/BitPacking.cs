using System.Numerics;

namespace Cleave.Codecs.Quantization;

/// <summary>Packs symbols of B bits (1..16) densely, least significant bit first, into ceil(n*B/8) bytes.</summary>
public static class BitPacking
{
    public static int PackedLength(int count, int bits) => (int)(((long)count * bits + 7) / 8);

    public static void Pack(ReadOnlySpan<byte> symbols, int bits, Span<byte> output) => PackCore(symbols, bits, output);

    public static void Pack(ReadOnlySpan<ushort> symbols, int bits, Span<byte> output) => PackCore(symbols, bits, output);

    /// <summary>Unpacks exactly <c>symbols.Length</c> values of at most 8 bits; the caller has checked the packed length.</summary>
    public static void Unpack(ReadOnlySpan<byte> packed, int bits, Span<byte> symbols) => UnpackCore(packed, bits, symbols);

    /// <summary>Unpacks exactly <c>symbols.Length</c> values; the caller has checked the packed length.</summary>
    public static void Unpack(ReadOnlySpan<byte> packed, int bits, Span<ushort> symbols) => UnpackCore(packed, bits, symbols);

    private static void PackCore<T>(ReadOnlySpan<T> symbols, int bits, Span<byte> output) where T : unmanaged, IBinaryInteger<T>
    {
        ulong buffer = 0;
        int filled = 0, at = 0;
        foreach (T s in symbols)
        {
            buffer |= ulong.CreateTruncating(s) << filled;
            filled += bits;
            while (filled >= 8)
            {
                output[at++] = (byte)buffer;
                buffer >>= 8;
                filled -= 8;
            }
        }
        if (filled > 0) output[at] = (byte)buffer;
    }

    private static void UnpackCore<T>(ReadOnlySpan<byte> packed, int bits, Span<T> symbols) where T : unmanaged, IBinaryInteger<T>
    {
        ulong buffer = 0;
        int filled = 0, at = 0;
        ulong mask = (1UL << bits) - 1;
        for (int i = 0; i < symbols.Length; i++)
        {
            while (filled < bits)
            {
                buffer |= (ulong)packed[at++] << filled;
                filled += 8;
            }
            symbols[i] = T.CreateTruncating(buffer & mask);
            buffer >>= bits;
            filled -= bits;
        }
    }
}
