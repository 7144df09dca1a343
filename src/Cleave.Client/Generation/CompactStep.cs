using System.Buffers.Binary;

namespace Cleave.Runtime.Generation;

/// <summary>
/// The compact form of a one-token step (<c>StepRequest.packed</c>): the session's 4-byte step handle (little-endian),
/// the position as an unsigned LEB128 varint (1-5 bytes), then the payload. With protobuf's tag and length byte that is
/// 7-8 bytes around a token's payload, where the full form spends 20-21 (a 12-character session id with its tag and
/// length, position, token count, the payload's tag and length). Nothing else changes: the unpacked step is checked
/// and run exactly as a full one. Layout: docs/protocol.md, "Compact steps".
/// </summary>
internal static class CompactStep
{
    public const int HandleBytes = 4;
    public const int MaxPositionBytes = 5;

    public static byte[] Pack(uint handle, uint position, ReadOnlySpan<byte> payload)
    {
        if (handle == 0) throw new ArgumentOutOfRangeException(nameof(handle), "step handle 0 means none was granted");
        int positionBytes = VarintLength(position);
        var packed = new byte[HandleBytes + positionBytes + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(packed, handle);
        int at = HandleBytes;
        for (uint v = position; ; v >>= 7)
        {
            if (v < 0x80)
            {
                packed[at++] = (byte)v;
                break;
            }
            packed[at++] = (byte)(v | 0x80);
        }
        payload.CopyTo(packed.AsSpan(at));
        return packed;
    }

    /// <summary>
    /// Splits a packed step; false with the reason for anything malformed (too short for a handle, a position and one
    /// payload byte; handle 0; a varint longer than 5 bytes or beyond 32 bits).
    /// </summary>
    public static bool TryUnpack(ReadOnlySpan<byte> packed, out uint handle, out uint position, out int payloadOffset, out string? error)
    {
        handle = position = 0;
        payloadOffset = 0;
        if (packed.Length < HandleBytes + 2)
        {
            error = $"a packed step of {packed.Length} bytes cannot hold a handle, a position and a payload";
            return false;
        }
        handle = BinaryPrimitives.ReadUInt32LittleEndian(packed);
        if (handle == 0)
        {
            error = "packed step with step handle 0";
            return false;
        }
        ulong value = 0;
        for (int i = 0; ; i++)
        {
            if (i == MaxPositionBytes || HandleBytes + i >= packed.Length)
            {
                error = "packed step: the position varint is longer than 5 bytes or runs into the end";
                return false;
            }
            byte b = packed[HandleBytes + i];
            value |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                payloadOffset = HandleBytes + i + 1;
                break;
            }
        }
        if (value > uint.MaxValue)
        {
            error = $"packed step: position {value} does not fit 32 bits";
            return false;
        }
        if (payloadOffset == packed.Length)
        {
            error = "packed step without a payload";
            return false;
        }
        position = (uint)value;
        error = null;
        return true;
    }

    private static int VarintLength(uint value)
    {
        int length = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            length++;
        }
        return length;
    }
}
