namespace Cleave.Codecs.Tests.Codecs;

public sealed class RawCodecTests : LosslessCodecTestBase
{
    protected override string Spec => "raw";

    [Fact]
    public void PayloadIsFourBytesPerElement() =>
        Assert.Equal(FrameOverhead(rank: 1) + 4 * 100, Codec.Encode(new float[100], new TensorShape(100)).Length);

    internal static int FrameOverhead(int rank, int parameters = 0) => 8 + 4 * rank + 2 + parameters + 4 + 4;
}

public sealed class ZstdCodecTests : LosslessCodecTestBase
{
    protected override string Spec => "zstd:level=3";

    [Fact]
    public void CompressesRedundantData() =>
        Assert.True(Codec.Encode(new float[10000], new TensorShape(10000)).Length < 1000);

    [Fact]
    public void LevelOutOfRangeIsRefused() => Assert.ThrowsAny<ArgumentException>(() => FeatureCodecs.Create("zstd:level=40"));
}

public sealed class DeflateCodecTests : LosslessCodecTestBase
{
    protected override string Spec => "deflate:level=6";

    [Fact]
    public void CompressesRedundantData() =>
        Assert.True(Codec.Encode(new float[10000], new TensorShape(10000)).Length < 1000);
}
