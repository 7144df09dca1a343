using Cleave.Codecs.Entropy;

namespace Cleave.Codecs.Tests.Entropy;

public sealed class RansCompressionTests
{
    [Theory]
    [InlineData(8)]
    [InlineData(4)]
    public void MillionQuantizedActivationsCodeNearTheEntropyBoundAndBeatZstd(int bits)
    {
        byte[] symbols = RansTestData.QuantizedReluLike(1_000_000, bits);
        byte[] encoded = RansTestData.Encode(symbols, 1 << bits);
        RansBlockInfo info = RansCoder.ReadBlockInfo(encoded);
        double bound = EntropyStatistics.Order0Bytes(symbols) + info.HeaderBytes;
        Assert.True(encoded.Length <= bound * 1.01, $"{encoded.Length} bytes vs bound {bound:F0}");
        int zstd = new ZstdSharp.Compressor(1).Wrap(symbols).Length;
        Assert.True(encoded.Length < zstd, $"rANS {encoded.Length} bytes, zstd-1 {zstd} bytes");
    }

    [Theory]
    [InlineData(8)]
    [InlineData(4)]
    public void SmallTensorTableStaysCompact(int bits)
    {
        byte[] symbols = RansTestData.QuantizedReluLike(4096, bits);
        byte[] encoded = RansTestData.Encode(symbols, 1 << bits);
        double entropy = EntropyStatistics.Order0Bytes(symbols);
        // A naive 256-entry table would cost about 6.8% here; the whole overhead above the entropy (header, table,
        // states, coding loss) must stay well below that, and a 2-byte-per-entry table alone would be 30%.
        Assert.True(encoded.Length <= entropy * 1.05, $"{encoded.Length} bytes vs entropy {entropy:F0}");
        Assert.True(RansCoder.ReadBlockInfo(encoded).HeaderBytes <= entropy * 0.04);
    }

    [Fact]
    public void Order0EntropyOfKnownStreams()
    {
        Assert.Equal(0, EntropyStatistics.Order0Bytes(new byte[100]));
        Assert.Equal(0, EntropyStatistics.Order0Bytes(ReadOnlySpan<byte>.Empty));
        Assert.Equal(1.0, EntropyStatistics.Order0Bytes(new byte[] { 0, 1, 0, 1, 0, 1, 0, 1 }), 12);
        var uniform = new ushort[4096 * 4];
        for (int i = 0; i < uniform.Length; i++) uniform[i] = (ushort)(i % 4096);
        Assert.Equal(uniform.Length * 12 / 8.0, EntropyStatistics.Order0Bytes(uniform), 6);
    }
}
