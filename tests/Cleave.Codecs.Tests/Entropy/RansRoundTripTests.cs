using System.Buffers;
using Cleave.Codecs.Entropy;
using CsCheck;

namespace Cleave.Codecs.Tests.Entropy;

public sealed class RansRoundTripTests
{
    private static void AssertRoundTrip(ushort[] symbols, int alphabetSize, int scaleBits)
    {
        byte[] encoded = RansTestData.Encode(symbols, alphabetSize, scaleBits);
        Assert.True(encoded.Length <= RansCoder.GetMaxEncodedLength(symbols.Length, alphabetSize));
        var decoded = new ushort[symbols.Length];
        Assert.Equal(encoded.Length, RansCoder.Decode(encoded, decoded));
        Assert.Equal(symbols, decoded);
    }

    private static void AssertRoundTrip(byte[] symbols, int alphabetSize, int scaleBits)
    {
        byte[] encoded = RansTestData.Encode(symbols, alphabetSize, scaleBits);
        Assert.True(encoded.Length <= RansCoder.GetMaxEncodedLength(symbols.Length, alphabetSize));
        var decoded = new byte[symbols.Length];
        Assert.Equal(encoded.Length, RansCoder.Decode(encoded, decoded));
        Assert.Equal(symbols, decoded);
    }

    [Fact]
    public void RandomStreamsRoundTripAtEveryScale()
    {
        var gen = Gen.Select(Gen.Int[0, 40_000], Gen.Int[1, RansCoder.MaxAlphabetSize], Gen.Enum<RansTestData.Shape>(),
            Gen.Int[RansCoder.MinScaleBits, RansCoder.MaxScaleBits], Gen.Int);
        gen.Sample((count, alphabet, shape, scaleBits, seed) =>
        {
            ushort[] symbols = RansTestData.Symbols(new Random(seed), count, alphabet, shape);
            int distinct = symbols.Distinct().Count();
            if (distinct > (1 << scaleBits))
            {
                Assert.Throws<ArgumentException>(() => RansTestData.Encode(symbols, alphabet, scaleBits));
                return;
            }
            AssertRoundTrip(symbols, alphabet, scaleBits);
            if (alphabet <= 256) AssertRoundTrip(Array.ConvertAll(symbols, s => (byte)s), alphabet, scaleBits);
        }, iter: 300);
    }

    [Theory]
    [InlineData(10)] [InlineData(11)] [InlineData(12)] [InlineData(13)] [InlineData(14)] [InlineData(15)]
    public void QuantizedActivationsRoundTrip(int scaleBits)
    {
        foreach (int bits in new[] { 2, 4, 8 })
        foreach (int count in new[] { 1, 15, 4096, 9000, 200_003 })
            AssertRoundTrip(RansTestData.QuantizedReluLike(count, bits, seed: count + bits), 1 << bits, scaleBits);
    }

    [Fact]
    public void EmptyInputRoundTrips()
    {
        AssertRoundTrip(Array.Empty<byte>(), 256, RansCoder.DefaultScaleBits);
        AssertRoundTrip(Array.Empty<ushort>(), 4096, RansCoder.DefaultScaleBits);
        AssertRoundTrip(Array.Empty<byte>(), 1, RansCoder.MinScaleBits);
    }

    [Fact]
    public void OneSymbolRoundTrips()
    {
        AssertRoundTrip(new byte[] { 200 }, 256, 12);
        AssertRoundTrip(new ushort[] { 4095 }, 4096, 15);
    }

    [Fact]
    public void SingleDistinctSymbolCostsOnlyTheHeader()
    {
        var symbols = new byte[1_000_000];
        symbols.AsSpan().Fill(7);
        byte[] encoded = RansTestData.Encode(symbols, 256);
        Assert.True(encoded.Length <= 6, $"single-symbol block took {encoded.Length} bytes");
        AssertRoundTrip(symbols, 256, RansCoder.DefaultScaleBits);
    }

    [Theory]
    [InlineData(12)] [InlineData(13)] [InlineData(15)]
    public void AllDistinctSymbolsOfTheLargestAlphabetRoundTrip(int scaleBits)
    {
        var symbols = new ushort[RansCoder.MaxAlphabetSize * 3];
        for (int i = 0; i < symbols.Length; i++) symbols[i] = (ushort)((i * 7919) % RansCoder.MaxAlphabetSize);
        AssertRoundTrip(symbols, RansCoder.MaxAlphabetSize, scaleBits);
    }

    [Fact]
    public void TooManyDistinctSymbolsForTheScaleAreRejected()
    {
        var symbols = new ushort[2000];
        for (int i = 0; i < symbols.Length; i++) symbols[i] = (ushort)i;
        Assert.Throws<ArgumentException>(() => RansTestData.Encode(symbols, 4096, scaleBits: 10));
        AssertRoundTrip(symbols, 4096, scaleBits: 11);
    }

    [Fact]
    public void InvalidArgumentsAreRejected()
    {
        var writer = new ArrayBufferWriter<byte>();
        Assert.Throws<ArgumentException>(() => RansCoder.Encode(new byte[] { 3 }, 3, writer));
        Assert.Throws<ArgumentException>(() => RansCoder.Encode(new ushort[] { 4096 }, 4096, writer));
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => RansCoder.Encode(new byte[] { 1 }, 2, writer, scaleBits: 9));
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => RansCoder.Encode(new byte[] { 1 }, 2, writer, scaleBits: 16));
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => RansCoder.Encode(new byte[] { 1 }, 0, writer));
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => RansCoder.Encode(new ushort[] { 1 }, 4097, writer));
    }

    [Fact]
    public void DecodeReportsTheBlockLengthWhenMoreDataFollows()
    {
        byte[] symbols = RansTestData.QuantizedReluLike(50_000, 4);
        byte[] encoded = RansTestData.Encode(symbols, 16);
        byte[] padded = [.. encoded, 1, 2, 3, 4, 5];
        var decoded = new byte[symbols.Length];
        Assert.Equal(encoded.Length, RansCoder.Decode(padded, decoded));
        Assert.Equal(symbols, decoded);
    }

    [Fact]
    public void ByteDecodeRejectsSymbolsAboveAByte()
    {
        var symbols = new ushort[] { 1, 300, 1, 2 };
        byte[] encoded = RansTestData.Encode(symbols, 512);
        var error = Assert.Throws<FrameFormatException>(() => RansCoder.Decode(encoded, new byte[4]));
        Assert.Equal(FrameError.CorruptPayload, error.Error);
    }

    [Fact]
    public void ByteSymbolsWithAWideAlphabetDecodeAsBytes()
    {
        byte[] symbols = RansTestData.QuantizedReluLike(10_000, 8);
        byte[] encoded = RansTestData.Encode(symbols, 1000);
        var decoded = new byte[symbols.Length];
        RansCoder.Decode(encoded, decoded);
        Assert.Equal(symbols, decoded);
    }

    [Fact]
    public void ByteAndUShortInputsGiveTheSameBlock()
    {
        byte[] symbols = RansTestData.QuantizedReluLike(100_000, 8);
        Assert.Equal(RansTestData.Encode(symbols, 256), RansTestData.Encode(Array.ConvertAll(symbols, s => (ushort)s), 256));
    }

    [Theory]
    [InlineData(20_000)] // 4 lanes: scalar only
    [InlineData(40_000)] // 8 lanes
    [InlineData(100_000)] // 16 lanes
    [InlineData(1_000_003)] // 32 lanes with a partial last group
    public void VectorAndScalarDecodersAgree(int count)
    {
        byte[] symbols = RansTestData.QuantizedReluLike(count, 8);
        byte[] encoded = RansTestData.Encode(symbols, 256);
        var vector = new byte[count];
        var scalar = new byte[count];
        RansCoder.Decode(encoded, vector);
        RansStreamDecoder.ForceScalar = true;
        try { RansCoder.Decode(encoded, scalar); }
        finally { RansStreamDecoder.ForceScalar = false; }
        Assert.Equal(symbols, vector);
        Assert.Equal(symbols, scalar);
    }

    [Fact]
    public void LaneCountGrowsWithTheSymbolCountAndTheStreamSize()
    {
        Assert.Equal(1, RansCoder.LanesFor(0, 0));
        Assert.Equal(1, RansCoder.LanesFor(8191, 1e6));
        Assert.Equal(2, RansCoder.LanesFor(8192, 1e6));
        Assert.Equal(32, RansCoder.LanesFor(1_000_000, 1e6));
        Assert.Equal(16, RansCoder.LanesFor(1_000_000, 30_000)); // 32 states would be over 1/256 of the stream
        Assert.Equal(32, RansCoder.ReadBlockInfo(RansTestData.Encode(RansTestData.QuantizedReluLike(1_000_000, 8), 256)).Lanes);
        Assert.Equal(16, RansCoder.ReadBlockInfo(RansTestData.Encode(RansTestData.QuantizedReluLike(1_000_000, 4), 16)).Lanes);
    }
}
