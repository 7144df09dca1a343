namespace Cleave.Codecs;

/// <summary>
/// Repairs one flipped bit in a block protected by CRC-32C. The CRC is linear: for blocks of equal length,
/// CRC(a) xor CRC(b) is the zero-initialized CRC of a xor b, so the syndrome (stored check xor the received block's CRC)
/// of a single flipped bit depends only on how many bits follow it. CRC-32C's Hamming distance is at least 4 for blocks
/// far longer than a frame's groups, so no two single-bit errors share a syndrome and no single-bit syndrome equals a
/// double-bit one: a match is the one flip that happened, or the check itself is what was hit.
/// </summary>
internal static class SingleBitCorrection
{
    private const uint ReflectedPolynomial = 0x82F63B78;

    /// <summary>
    /// Whether <paramref name="block"/> with check <paramref name="stored"/> is intact or was repaired (in place) by
    /// flipping one bit; false when the damage is more than one bit (the block is left as it was).
    /// </summary>
    public static bool TryRepair(Span<byte> block, uint stored)
    {
        uint syndrome = stored ^ Crc32C.Compute(block);
        if (syndrome == 0 || (syndrome & (syndrome - 1)) == 0) return true; // intact, or one bit of the check itself flipped
        // Bit t of the block in the order the CRC reads it (byte t / 8, bit t mod 8, least significant first): a flip there
        // leaves syndrome step^(n - t)(1), step being one zero bit through the register. Walk from the last bit back.
        long bits = 8L * block.Length;
        uint s = 1;
        for (long t = bits - 1; t >= 0; t--)
        {
            s = (s & 1) != 0 ? (s >> 1) ^ ReflectedPolynomial : s >> 1;
            if (s != syndrome) continue;
            block[(int)(t >> 3)] ^= (byte)(1 << (int)(t & 7));
            if (Crc32C.Compute(block) == stored) return true;
            block[(int)(t >> 3)] ^= (byte)(1 << (int)(t & 7));
            return false;
        }
        return false;
    }
}
