using System.Buffers.Binary;

namespace Cleave.Codecs.Tests.Frames;

public sealed class FrameValidationTests
{
    private static byte[] ValidFrame(string spec = "quant:bits=8") =>
        FeatureCodecs.Create(spec).Encode(SyntheticTensors.ReluLike(24, seed: 1), new TensorShape(2, 3, 4));

    /// <summary>Rewrites the trailing checksum so a deliberately broken field reaches the check meant for it.</summary>
    internal static void Reseal(byte[] frame) =>
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(frame.Length - 4), Crc32C.Compute(frame.AsSpan(0, frame.Length - 4)));

    private static FrameFormatException DecodeFails(byte[] frame, DecodeLimits? limits = null) =>
        Assert.Throws<FrameFormatException>(() => FeatureFrame.Decode(frame, out _, limits));

    [Fact]
    public void Crc32CMatchesTheStandardCheckValue() =>
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));

    [Fact]
    public void HeaderLayoutIsAsDocumented()
    {
        byte[] frame = FeatureCodecs.Create("raw").Encode([1f, 2f], new TensorShape(2));
        Assert.Equal("CLVF"u8.ToArray(), frame[..4]);
        Assert.Equal([1, (byte)CodecId.Raw, (byte)TensorDataType.Float32, 1], frame[4..8]);
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(8)));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(frame.AsSpan(12)));
        Assert.Equal(8u, BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(14)));
        Assert.Equal(1f, BinaryPrimitives.ReadSingleLittleEndian(frame.AsSpan(18)));
        Assert.Equal(18 + 8 + 4, frame.Length);
    }

    [Fact]
    public void EveryProperPrefixIsReportedAsTruncated()
    {
        byte[] frame = ValidFrame();
        for (int length = 0; length < frame.Length; length++)
            Assert.Equal(FrameError.Truncated, DecodeFails(frame[..length]).Error);
    }

    [Fact]
    public void BadMagicVersionCodecAndDataTypeAreNamed()
    {
        var frame = ValidFrame(); frame[0] = (byte)'X';
        Assert.Equal(FrameError.BadMagic, DecodeFails(frame).Error);
        frame = ValidFrame(); frame[4] = 2;
        Assert.Contains("version 2", DecodeFails(frame).Message);
        frame = ValidFrame(); frame[5] = 200;
        Assert.Equal(FrameError.UnknownCodec, DecodeFails(frame).Error);
        frame = ValidFrame(); frame[6] = 9;
        Assert.Equal(FrameError.BadDataType, DecodeFails(frame).Error);
        frame = ValidFrame(); frame[7] = 9;
        Assert.Equal(FrameError.BadShape, DecodeFails(frame).Error);
    }

    [Fact]
    public void ChecksumMismatchIsDetected()
    {
        var frame = ValidFrame();
        frame[^6] ^= 0x10; // a payload bit
        var e = DecodeFails(frame);
        Assert.Equal(FrameError.ChecksumMismatch, e.Error);
        Assert.Contains("checksum", e.Message);
    }

    [Fact]
    public void TrailingBytesAreRefusedByWholeFrameDecodeButAllowedByReadHeader()
    {
        var frame = ValidFrame();
        var longer = frame.Concat(new byte[] { 1, 2, 3 }).ToArray();
        Assert.Equal(FrameError.TrailingBytes, DecodeFails(longer).Error);
        Assert.Equal(frame.Length, FeatureFrame.ReadHeader(longer).FrameLength);
    }

    [Fact]
    public void HugeShapeIsRefusedBeforeAllocating()
    {
        // Dimensions claiming 2^32 x 2^32 x 2^32 elements, followed by nothing: must fail on the limit, not on memory.
        var frame = new byte[8 + 12 + 2 + 4 + 4];
        "CLVF"u8.CopyTo(frame);
        frame[4] = 1; frame[5] = (byte)CodecId.Raw; frame[6] = 1; frame[7] = 3;
        for (int i = 0; i < 3; i++) BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(8 + 4 * i), uint.MaxValue);
        Assert.Equal(FrameError.LimitExceeded, DecodeFails(frame).Error);
    }

    [Fact]
    public void ConfigurableLimitIsHonoured()
    {
        var frame = FeatureCodecs.Create("raw").Encode(new float[1000], new TensorShape(1000));
        var e = DecodeFails(frame, new DecodeLimits { MaxDecodedBytes = 3999 });
        Assert.Equal(FrameError.LimitExceeded, e.Error);
        Assert.Contains("3999", e.Message);
        Assert.Equal(1000, FeatureFrame.Decode(frame, out _, new DecodeLimits { MaxDecodedBytes = 4000 }).Length);
    }

    [Fact]
    public void PayloadOfTheWrongSizeIsCorruptEvenWithAValidChecksum()
    {
        // A raw frame that claims 3 elements but carries 2: structurally valid, so only the codec can notice.
        var frame = FeatureCodecs.Create("raw").Encode([1f, 2f], new TensorShape(2));
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(8), 3);
        Reseal(frame);
        Assert.Equal(FrameError.Truncated, DecodeFails(frame).Error);
    }

    [Fact]
    public void HostileQuantParametersAreRefused()
    {
        var frame = ValidFrame("quant:bits=8");
        int parameters = 8 + 4 * 3 + 2;
        frame[parameters] = 0; // 0 bits
        Reseal(frame);
        Assert.Equal(FrameError.BadParameters, DecodeFails(frame).Error);

        frame = ValidFrame("quant:bits=8");
        int scale = parameters + 5 + 4 + 4; // parameters, payload length, channel count
        BinaryPrimitives.WriteSingleLittleEndian(frame.AsSpan(scale), float.NaN);
        Reseal(frame);
        Assert.Equal(FrameError.CorruptPayload, DecodeFails(frame).Error);
    }

    [Fact]
    public void QuantSymbolsBeyondTheBitWidthAreRefused()
    {
        // 4-bit symbols stored by zstd one per byte: a byte of 200 cannot be a 4-bit level.
        var values = new float[] { 0, 1, 2, 3 };
        var frame = FeatureCodecs.Create("quant:bits=4,entropy=zstd,level=1").Encode(values, new TensorShape(4));
        var header = FeatureFrame.ReadHeader(frame);
        var symbols = new byte[] { 0, 5, 200, 15 };
        var compressed = new ZstdSharp.Compressor(1).Wrap(symbols).ToArray();
        int symbolsAt = header.PayloadOffset + 4 + 8;
        var forged = frame[..symbolsAt].Concat(compressed).Concat(new byte[4]).ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(forged.AsSpan(header.PayloadOffset - 4), (uint)(12 + compressed.Length));
        Reseal(forged);
        var e = DecodeFails(forged);
        Assert.Equal(FrameError.CorruptPayload, e.Error);
        Assert.Contains("200", e.Message);
    }
}
