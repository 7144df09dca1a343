namespace Cleave.Codecs.Entropy;

/// <summary>LEB128 unsigned integers (7 bits a byte, low group first, high bit = more follow), at most 32 bits.</summary>
internal static class VarInt
{
    public const int MaxBytes = 5;

    public static int Write(Span<byte> destination, uint value)
    {
        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        destination[i++] = (byte)value;
        return i;
    }

    public static uint Read(ReadOnlySpan<byte> source, ref int position)
    {
        uint value = 0;
        for (int i = 0; i < MaxBytes; i++)
        {
            if (position >= source.Length) throw new FrameFormatException(FrameError.Truncated, "rANS block header ends early");
            uint b = source[position++];
            if (i == MaxBytes - 1 && b > 0x0F) throw new FrameFormatException(FrameError.CorruptPayload, "rANS header number exceeds 32 bits");
            value |= (b & 0x7F) << (7 * i);
            if (b < 0x80) return value;
        }
        throw new FrameFormatException(FrameError.CorruptPayload, "rANS header number exceeds 32 bits");
    }
}
