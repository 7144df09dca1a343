namespace Cleave.Codecs.Entropy;

/// <summary>Bounds-checked reader for <see cref="TableBitWriter"/>'s bits; running off the end is <see cref="FrameError.Truncated"/>.</summary>
internal ref struct TableBitReader
{
    /// <summary>Longest exp-Golomb prefix accepted: no table field needs more than 2^20, so more zeros mean corruption.</summary>
    private const int MaxExpGolombPrefix = 20;

    private readonly ReadOnlySpan<byte> _bytes;
    private long _position;

    public TableBitReader(ReadOnlySpan<byte> bytes)
    {
        _bytes = bytes;
        _position = 0;
    }

    /// <summary>Bytes touched so far (the table is padded to a whole byte).</summary>
    public readonly int BytesConsumed => (int)((_position + 7) >> 3);

    public uint ReadBit()
    {
        long index = _position >> 3;
        if (index >= _bytes.Length)
            throw new FrameFormatException(FrameError.Truncated, "rANS frequency table ends early");
        uint bit = (uint)(_bytes[(int)index] >> (int)(_position & 7)) & 1;
        _position++;
        return bit;
    }

    public uint Read(int bits)
    {
        uint value = 0;
        for (int i = 0; i < bits; i++) value |= ReadBit() << i;
        return value;
    }

    public uint ReadExpGolomb(int order)
    {
        int zeros = 0;
        while (ReadBit() == 0)
        {
            if (++zeros > MaxExpGolombPrefix)
                throw new FrameFormatException(FrameError.CorruptPayload, "rANS frequency table holds an oversized code");
        }
        int width = zeros + order; // bits after the leading one
        ulong w = (1UL << width) | Read64(width);
        return (uint)(w - (1UL << order));
    }

    private ulong Read64(int bits)
    {
        ulong value = 0;
        for (int i = 0; i < bits; i++) value |= (ulong)ReadBit() << i;
        return value;
    }
}
