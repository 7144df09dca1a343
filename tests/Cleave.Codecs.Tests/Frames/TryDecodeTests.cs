using System.Buffers;
using System.Buffers.Binary;

namespace Cleave.Codecs.Tests.Frames;

/// <summary>
/// The statuses of <see cref="FeatureFrame.TryDecode"/> (the non-throwing twin of Decode, as Brotli's decoder): good
/// frames, frames cut short, damaged frames, frames too big for the limits, and destinations too small.
/// </summary>
public sealed class TryDecodeTests
{
    private static readonly TensorShape Shape = new(2, 3, 4);

    private static byte[] Frame(string spec = "quant:bits=8,entropy=rans") =>
        FeatureCodecs.Create(spec).Encode(SyntheticTensors.ReluLike(24, seed: 1), Shape);

    private static OperationStatus Status(ReadOnlySpan<byte> frame, int destination = 24, DecodeLimits? limits = null) =>
        FeatureFrame.TryDecode(frame, new float[destination], out _, out _, limits);

    [Theory]
    [InlineData("raw")]
    [InlineData("quant:bits=8,entropy=rans")]
    [InlineData("slicer:keep=1,asym=1,blocks=8,delta=0")]
    public void AGoodFrameIsDoneAndEqualsDecode(string spec)
    {
        byte[] frame = Frame(spec);
        var destination = new float[30];
        Assert.Equal(OperationStatus.Done, FeatureFrame.TryDecode(frame, destination, out var shape, out int consumed));
        Assert.Equal(Shape, shape);
        Assert.Equal(frame.Length, consumed);
        Assert.Equal(FeatureFrame.Decode(frame, out _), destination[..24]);
    }

    [Fact]
    public void EveryProperPrefixNeedsMoreData()
    {
        byte[] frame = Frame();
        for (int length = 0; length < frame.Length; length++)
        {
            Assert.Equal(OperationStatus.NeedMoreData, FeatureFrame.TryDecode(frame.AsSpan(0, length), new float[24], out var shape, out int consumed));
            Assert.Null(shape);
            Assert.Equal(0, consumed);
        }
    }

    [Fact]
    public void BytesAfterTheFrameAreLeftForTheCaller()
    {
        byte[] frame = Frame();
        byte[] two = [.. frame, .. frame];
        Assert.Equal(OperationStatus.Done, FeatureFrame.TryDecode(two, new float[24], out _, out int consumed));
        Assert.Equal(frame.Length, consumed);
        Assert.Equal(OperationStatus.Done, FeatureFrame.TryDecode(two.AsSpan(consumed), new float[24], out _, out consumed));
        Assert.Equal(frame.Length, consumed);
    }

    [Fact]
    public void ADestinationTooSmallIsSaidWithTheShapeItNeeds()
    {
        Assert.Equal(OperationStatus.DestinationTooSmall, FeatureFrame.TryDecode(Frame(), new float[23], out var shape, out int consumed));
        Assert.Equal(Shape, shape);
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void DamagedFramesAreInvalidData()
    {
        byte[] frame = Frame();
        Assert.Equal(OperationStatus.InvalidData, Status(Damaged(frame, 0)));            // magic
        Assert.Equal(OperationStatus.InvalidData, Status(Damaged(frame, 4)));            // version
        Assert.Equal(OperationStatus.InvalidData, Status(Damaged(frame, frame.Length / 2))); // payload: checksum
        Assert.Equal(OperationStatus.InvalidData, Status(Damaged(frame, frame.Length - 1))); // checksum itself
        var unknownCodec = (byte[])frame.Clone();
        unknownCodec[5] = 200;
        Assert.Equal(OperationStatus.InvalidData, Status(unknownCodec));
    }

    /// <summary>Damage behind a correct checksum (a hostile sender, not the network) reaches the codec's own decoder, which refuses it quietly.</summary>
    [Fact]
    public void HostilePayloadsBehindAValidChecksumAreInvalidData()
    {
        byte[] frame = Frame();
        var header = FeatureFrame.ReadHeader(frame);
        int refused = 0;
        for (int at = header.PayloadOffset; at < header.PayloadOffset + header.PayloadLength; at++)
        {
            var hostile = (byte[])frame.Clone();
            hostile[at] ^= 0xFF;
            FrameValidationTests.Reseal(hostile);
            var status = Status(hostile);
            Assert.True(status is OperationStatus.Done or OperationStatus.InvalidData, $"byte {at}: {status}");
            if (status == OperationStatus.InvalidData)
            {
                refused++;
                Assert.ThrowsAny<FrameFormatException>(() => FeatureFrame.Decode(hostile, out _));
            }
        }
        Assert.True(refused > 0, "no flipped payload byte was refused");
    }

    [Fact]
    public void AShapeBeyondTheLimitsIsInvalidDataBeforeAnythingIsDecoded()
    {
        var limits = new DecodeLimits { MaxDecodedBytes = 4 * 23 };
        Assert.Equal(OperationStatus.InvalidData, Status(Frame(), limits: limits));
        Assert.Equal(OperationStatus.Done, Status(Frame(), limits: new DecodeLimits { MaxDecodedBytes = 4 * 24 }));
    }

    [Fact]
    public void AFrameClaimingMorePayloadThanItHoldsNeedsMoreData()
    {
        byte[] frame = Frame("raw");
        var header = FeatureFrame.ReadHeader(frame);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(header.PayloadOffset - 4), uint.MaxValue);
        Assert.Equal(OperationStatus.NeedMoreData, Status(frame));
    }

    private static byte[] Damaged(byte[] frame, int at)
    {
        var copy = (byte[])frame.Clone();
        copy[at] ^= 0x5A;
        return copy;
    }
}
