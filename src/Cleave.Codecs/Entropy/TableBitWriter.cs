namespace Cleave.Codecs.Entropy;

/// <summary>
/// LSB-first bit packer for the frequency-table header (a few hundred bits at most, so a growable array is fine).
/// Bit i of the stream is bit (i % 8) of byte (i / 8).
/// </summary>
internal sealed class TableBitWriter
{
    private byte[] _bytes = new byte[64];
    private long _bitCount;

    public long BitCount => _bitCount;

    public int ByteCount => (int)((_bitCount + 7) >> 3);

    public ReadOnlySpan<byte> Bytes => _bytes.AsSpan(0, ByteCount);

    public void Write(uint value, int bits)
    {
        for (int i = 0; i < bits; i++) WriteBit((value >> i) & 1);
    }

    public void WriteBit(uint bit)
    {
        int index = (int)(_bitCount >> 3);
        if (index >= _bytes.Length) Array.Resize(ref _bytes, _bytes.Length * 2);
        _bytes[index] |= (byte)(bit << (int)(_bitCount & 7));
        _bitCount++;
    }

    /// <summary>Exp-Golomb code of order <paramref name="order"/>: zeros, a one, then the low bits of value + 2^order.</summary>
    public void WriteExpGolomb(uint value, int order)
    {
        ulong w = value + (1UL << order);
        int width = 64 - System.Numerics.BitOperations.LeadingZeroCount(w); // bits in w
        int zeros = width - 1 - order;
        for (int i = 0; i < zeros; i++) WriteBit(0);
        WriteBit(1);
        ulong low = w - (1UL << (width - 1));
        for (int i = 0; i < width - 1; i++) WriteBit((uint)(low >> i) & 1);
    }

    /// <summary>Length in bits of <see cref="WriteExpGolomb"/>'s code, for choosing the order without writing.</summary>
    public static int ExpGolombLength(uint value, int order)
    {
        ulong w = value + (1UL << order);
        int width = 64 - System.Numerics.BitOperations.LeadingZeroCount(w);
        return 2 * width - 1 - order;
    }
}
