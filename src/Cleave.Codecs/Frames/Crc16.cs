namespace Cleave.Codecs;

/// <summary>
/// CRC-16/X-25 (the CCITT polynomial 0x1021, reflected: 0x8408; initial value and final xor 0xFFFF), the group check
/// of compact resilient frames (docs/format.md, "Layout 2"). Why this polynomial: it is (x + 1) times a primitive
/// polynomial of degree 15, so its Hamming distance is 4 for blocks up to 32,751 bits (4,093 bytes of payload): every
/// single flipped bit has its own syndrome and no two flips share one with a single flip, which is what the one-bit
/// repair (<see cref="SingleBitCorrection"/>) needs, at half the bytes of CRC-32C.
/// </summary>
public static class Crc16
{
    internal const uint ReflectedPolynomial = 0x8408;

    /// <summary>Longest payload (bytes) for which the Hamming distance is still 4 with the 16 check bits.</summary>
    public const int RepairableLength = (32751 - 16) / 8;

    private static readonly ushort[] Table = BuildTable();

    public static ushort Compute(ReadOnlySpan<byte> data)
    {
        uint state = 0xFFFF;
        foreach (byte b in data) state = (state >> 8) ^ Table[(state ^ b) & 0xFF];
        return (ushort)(state ^ 0xFFFF);
    }

    private static ushort[] BuildTable()
    {
        var table = new ushort[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ ReflectedPolynomial : c >> 1;
            table[i] = (ushort)c;
        }
        return table;
    }
}
