namespace Cleave.Codecs;

/// <summary>
/// Repairs one flipped bit in a block protected by a CRC (CRC-32C in layout 1, CRC-16/X-25 in layout 2). A CRC is
/// affine: for blocks of equal length, CRC(a) xor CRC(b) is the zero-initialized CRC of a xor b, so the syndrome
/// (stored check xor the received block's CRC) of a single flipped bit depends only on how many bits follow it. Both
/// checks have Hamming distance at least 4 at the lengths they are used for (CRC-32C far beyond a frame's groups,
/// CRC-16/X-25 up to <see cref="Crc16.RepairableLength"/> bytes), so no two single-bit errors share a syndrome and no
/// single-bit syndrome equals a double-bit one: a match is the one flip that happened, or the check itself is what was hit.
/// </summary>
internal static class SingleBitCorrection
{
    private const uint Crc32CPolynomial = 0x82F63B78;

    /// <summary>
    /// Whether <paramref name="block"/> with CRC-32C <paramref name="stored"/> is intact or was repaired (in place) by
    /// flipping one bit; false when the damage is more than one bit (the block is left as it was).
    /// </summary>
    public static bool TryRepair(Span<byte> block, uint stored) =>
        TryRepair(block, stored, Crc32CPolynomial, static b => Crc32C.Compute(b));

    /// <summary>As <see cref="TryRepair(Span{byte}, uint)"/> for a CRC-16/X-25 check; blocks longer than
    /// <see cref="Crc16.RepairableLength"/> are only checked, never repaired (two positions could share a syndrome).</summary>
    public static bool TryRepair16(Span<byte> block, ushort stored)
    {
        if (block.Length > Crc16.RepairableLength) return Crc16.Compute(block) == stored;
        return TryRepair(block, stored, Crc16.ReflectedPolynomial, static b => Crc16.Compute(b));
    }

    private delegate uint Check(ReadOnlySpan<byte> block);

    private static bool TryRepair(Span<byte> block, uint stored, uint polynomial, Check check)
    {
        uint syndrome = stored ^ check(block);
        if (syndrome == 0 || (syndrome & (syndrome - 1)) == 0) return true; // intact, or one bit of the check itself flipped
        // Bit t of the block in the order the CRC reads it (byte t / 8, bit t mod 8, least significant first): a flip there
        // leaves syndrome step^(n - t)(1), step being one zero bit through the register. Walk from the last bit back.
        long bits = 8L * block.Length;
        uint s = 1;
        for (long t = bits - 1; t >= 0; t--)
        {
            s = (s & 1) != 0 ? (s >> 1) ^ polynomial : s >> 1;
            if (s != syndrome) continue;
            block[(int)(t >> 3)] ^= (byte)(1 << (int)(t & 7));
            if (check(block) == stored) return true;
            block[(int)(t >> 3)] ^= (byte)(1 << (int)(t & 7));
            return false;
        }
        return false;
    }
}
