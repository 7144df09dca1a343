using System.Buffers.Binary;

namespace Cleave.Codecs;

/// <summary>A bounds-checked cursor over a payload: every read that would run past the end is a typed error.</summary>
internal ref struct PayloadReader(ReadOnlySpan<byte> data, string what)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    public readonly int Remaining => _data.Length - _position;
    public readonly ReadOnlySpan<byte> Rest => _data[_position..];

    public byte ReadByte() => Take(1)[0];
    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
    public float ReadSingle() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    public ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining)
            throw new FrameFormatException(FrameError.Truncated, $"{what} is truncated: needs {count} more bytes at offset {_position}, {Remaining} left");
        var slice = _data.Slice(_position, count);
        _position += count;
        return slice;
    }

    public readonly void ExpectEnd()
    {
        if (Remaining != 0)
            throw new FrameFormatException(FrameError.CorruptPayload, $"{what} has {Remaining} unexpected trailing bytes");
    }

    public static void ExpectLength(ReadOnlySpan<byte> payload, long expected, string what)
    {
        if (payload.Length != expected)
            throw new FrameFormatException(payload.Length < expected ? FrameError.Truncated : FrameError.CorruptPayload,
                $"{what} is {payload.Length} bytes, the shape needs exactly {expected}");
    }
}
