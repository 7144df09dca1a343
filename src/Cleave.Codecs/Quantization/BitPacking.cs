namespace Cleave.Codecs.Quantization;

/// <summary>Packs symbols of B bits (1..16) densely, least significant bit first, into ceil(n*B/8) bytes.</summary>
public static class BitPacking
{
    public static int PackedLength(int count, int bits) => (int)(((long)count * bits + 7) / 8);

    public static void Pack(ReadOnlySpan<byte> symbols, int bits, Span<byte> output)
    {
        ulong buffer = 0;
        int filled = 0, at = 0;
        foreach (byte s in symbols)
        {
            buffer |= (ulong)s << filled;
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

    public static void Pack(ReadOnlySpan<ushort> symbols, int bits, Span<byte> output)
    {
        ulong buffer = 0;
        int filled = 0, at = 0;
        foreach (ushort s in symbols)
        {
            buffer |= (ulong)s << filled;
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

    /// <summary>Unpacks exactly <c>symbols.Length</c> values of at most 8 bits; the caller has checked the packed length.</summary>
    public static void Unpack(ReadOnlySpan<byte> packed, int bits, Span<byte> symbols)
    {
        ulong buffer = 0;
        int filled = 0, at = 0;
        uint mask = (1u << bits) - 1;
        for (int i = 0; i < symbols.Length; i++)
        {
            while (filled < bits)
            {
                buffer |= (ulong)packed[at++] << filled;
                filled += 8;
            }
            symbols[i] = (byte)(buffer & mask);
            buffer >>= bits;
            filled -= bits;
        }
    }

    /// <summary>Unpacks exactly <c>symbols.Length</c> values; the caller has checked the packed length.</summary>
    public static void Unpack(ReadOnlySpan<byte> packed, int bits, Span<ushort> symbols)
    {
        ulong buffer = 0;
        int filled = 0, at = 0;
        uint mask = (1u << bits) - 1;
        for (int i = 0; i < symbols.Length; i++)
        {
            while (filled < bits)
            {
                buffer |= (ulong)packed[at++] << filled;
                filled += 8;
            }
            symbols[i] = (ushort)(buffer & mask);
            buffer >>= bits;
            filled -= bits;
        }
    }
}
