using System.Buffers.Binary;
using System.Numerics;

namespace Cleave.Codecs;

/// <summary>
/// CRC-32C (Castagnoli), the frame checksum. <see cref="BitOperations.Crc32C(uint, ulong)"/> uses the SSE4.2 / ARMv8
/// instruction where present and a table otherwise, so the same code serves both.
/// </summary>
public static class Crc32C
{
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues a checksum computed over earlier bytes (pass 0 to start).</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint state = ~crc;
        while (data.Length >= 8)
        {
            state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (byte b in data) state = BitOperations.Crc32C(state, b);
        return ~state;
    }
}
