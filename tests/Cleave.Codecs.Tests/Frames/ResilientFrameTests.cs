using System.Buffers.Binary;
using Cleave.Codecs.Analysis.Fuzzing;

namespace Cleave.Codecs.Tests.Frames;

public sealed class ResilientFrameTests
{
    private static readonly TensorShape Shape = new(1, 8, 12, 10);

    /// <summary>Smooth planes (rows vary slowly), so interpolation across a lost row run has something to recover.</summary>
    private static float[] SmoothTensor()
    {
        var values = new float[Shape.ElementCount];
        for (int c = 0; c < 8; c++)
            for (int y = 0; y < 12; y++)
                for (int x = 0; x < 10; x++)
                    values[(c * 12 + y) * 10 + x] = MathF.Sin(0.3f * x + c) + 0.2f * y;
        return values;
    }

    private static (int Offset, int Length)[] GroupSpans(byte[] frame)
    {
        int header = BinaryPrimitives.ReadUInt16LittleEndian(frame.AsSpan(5));
        var spans = new List<(int, int)>();
        int at = 2 * header;
        // Lengths follow the fixed fields and parameters: read them back through a decode of the intact frame's layout.
        int rank = frame[9], p = 10 + 4 * rank + 1 + 4;
        int parameters = BinaryPrimitives.ReadUInt16LittleEndian(frame.AsSpan(p));
        p += 2 + parameters;
        while (p < header - 4)
        {
            int length = 0, shift = 0;
            byte b;
            do { b = frame[p++]; length |= (b & 0x7F) << shift; shift += 7; } while (b >= 0x80);
            spans.Add((at, length));
            at += length + ResilientFrame.GroupCheckSize;
        }
        Assert.Equal(frame.Length, at);
        return [.. spans];
    }

    [Theory]
    [InlineData("resilient:planes=4,rows=3/raw")]
    [InlineData("resilient:planes=2,rows=4/rans-ifc:bits=4,ctx=2d")]
    [InlineData("resilient:planes=8,rows=12,conceal=mean/quant:bits=8,entropy=rans")]
    public void AnIntactFrameDecodesLikeItsInnerCodecGroupByGroup(string spec)
    {
        var codec = (ResilientCodec)FeatureCodecs.Create(spec);
        Assert.Equal(codec.Spec, FeatureCodecs.Create(codec.Spec).Spec);
        var values = SmoothTensor();
        byte[] frame = codec.Encode(values, Shape);
        Assert.Equal("CLVR"u8.ToArray(), frame[..4]);
        var decoded = ResilientFrame.Decode(frame, out var result);
        Assert.True(result.IsIntact);
        Assert.Equal(Shape, result.Shape);
        Assert.Equal(codec.PlaneGroups * codec.RowBlocks, result.Groups);
        double tolerance = codec.Inner.IsLossless ? 0 : 0.15; // half a 4-bit step over a group's range (< 4)
        for (int i = 0; i < values.Length; i++) Assert.InRange(decoded[i] - values[i], -tolerance, tolerance);
        // FeatureFrame.Decode (the server's path) hands resilient frames over.
        Assert.Equal(decoded, FeatureFrame.Decode(frame, out var shape));
        Assert.Equal(Shape, shape);
    }

    [Theory]
    [InlineData(ConcealmentMode.Zero)]
    [InlineData(ConcealmentMode.Mean)]
    [InlineData(ConcealmentMode.Interpolate)]
    public void ADamagedGroupIsConcealedAndEveryOtherGroupDecodesExactly(ConcealmentMode mode)
    {
        var values = SmoothTensor();
        byte[] frame = FeatureCodecs.Create("resilient:planes=2,rows=4/raw").Encode(values, Shape);
        var spans = GroupSpans(frame);
        Assert.Equal(8, spans.Length);
        int damaged = 5; // planes 4..7, rows 3..5
        frame[spans[damaged].Offset + 17] ^= 0x10;
        frame[spans[damaged].Offset + 40] ^= 0x01; // two flips: more than the group's check can repair
        var decoded = ResilientFrame.Decode(frame, out var result, conceal: mode);
        Assert.Equal([damaged], result.ConcealedGroups);
        double lostError = 0;
        for (int c = 0; c < 8; c++)
            for (int y = 0; y < 12; y++)
                for (int x = 0; x < 10; x++)
                {
                    int i = (c * 12 + y) * 10 + x;
                    bool lost = c >= 4 && y is >= 3 and < 6;
                    if (!lost) Assert.Equal(values[i], decoded[i]);
                    else if (mode == ConcealmentMode.Zero) Assert.Equal(0f, decoded[i]);
                    else lostError += Math.Abs(decoded[i] - values[i]);
                }
        if (mode == ConcealmentMode.Interpolate) Assert.True(lostError / 120 < 0.01, $"mean interpolation error {lostError / 120}"); // rows are linear in y
        if (mode == ConcealmentMode.Mean) Assert.True(lostError / 120 < 1.5, $"mean error {lostError / 120}");
    }

    [Fact]
    public void OneFlippedBitInAGroupIsRepairedExactlyWhereverItFalls()
    {
        var values = SmoothTensor();
        byte[] frame = FeatureCodecs.Create("resilient:planes=2,rows=4/raw").Encode(values, Shape);
        var spans = GroupSpans(frame);
        var random = new Random(4);
        for (int trial = 0; trial < 40; trial++)
        {
            byte[] copy = (byte[])frame.Clone();
            int group = random.Next(spans.Length);
            int bit = random.Next(8 * (spans[group].Length + ResilientFrame.GroupCheckSize)); // the check's own bits too
            copy[spans[group].Offset + bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Equal(values, ResilientFrame.Decode(copy, out var result));
            Assert.True(result.IsIntact);
            Assert.True(bit >= 8 * spans[group].Length ? result.RepairedGroups.Count == 0 : result.RepairedGroups.SequenceEqual([group]));
        }
    }

    [Fact]
    public void TheSecondHeaderCopyStandsInForADamagedFirstAndBothDamagedIsATypedError()
    {
        var values = SmoothTensor();
        byte[] frame = FeatureCodecs.Create("resilient:planes=2,rows=2/raw").Encode(values, Shape);
        int header = BinaryPrimitives.ReadUInt16LittleEndian(frame.AsSpan(5));
        foreach (int at in new[] { 0, 5, 6, 12, header - 1 }) // magic, the length field itself, a dimension, the checksum
        {
            byte[] copy = (byte[])frame.Clone();
            copy[at] ^= 0x04;
            Assert.Equal(values, ResilientFrame.Decode(copy, out var result));
            Assert.True(result.HeaderFromSecondCopy);
            Assert.True(result.IsIntact);
        }
        byte[] bothOnce = (byte[])frame.Clone();
        bothOnce[12] ^= 1;
        bothOnce[header + 20] ^= 2;
        Assert.Equal(values, ResilientFrame.Decode(bothOnce, out _)); // one flip in each copy: repaired
        frame[12] ^= 1;
        frame[13] ^= 1;
        frame[header + 12] ^= 1;
        frame[header + 13] ^= 1;
        Assert.Equal(FrameError.ChecksumMismatch, Assert.Throws<FrameFormatException>(() => FeatureFrame.Decode(frame, out _)).Error);
    }

    [Fact]
    public void ATruncatedFrameConcealsTheMissingGroupsAndTrailingBytesAreRefused()
    {
        byte[] frame = FeatureCodecs.Create("resilient:planes=1,rows=4/raw").Encode(SmoothTensor(), Shape);
        var spans = GroupSpans(frame);
        ResilientFrame.Decode(frame[..(spans[2].Offset + 3)], out var result);
        Assert.Equal([2, 3], result.ConcealedGroups);
        Assert.Equal(FrameError.TrailingBytes, Assert.Throws<FrameFormatException>(() => FeatureFrame.Decode([.. frame, 0], out _)).Error);
    }

    [Fact]
    public void GroupsAreCappedByTheTensorAndTinyOrEmptyTensorsRoundTrip()
    {
        var codec = FeatureCodecs.Create("resilient:planes=64,rows=64/quant:bits=8");
        ResilientFrame.Decode(codec.Encode(SmoothTensor(), Shape), out var result);
        Assert.Equal(8 * 12, result.Groups);
        Assert.Empty(FeatureFrame.Decode(codec.Encode([], new TensorShape(0, 3)), out var empty));
        Assert.Equal(new TensorShape(0, 3), empty);
        Assert.Equal([2.5f], FeatureFrame.Decode(FeatureCodecs.Create("resilient:planes=2,rows=2/raw").Encode([2.5f], new TensorShape()), out _));
        Assert.Equal([1f, 2f, 3f], FeatureFrame.Decode(FeatureCodecs.Create("resilient:planes=2,rows=2/raw").Encode([1f, 2f, 3f], new TensorShape(3)), out _));
    }

    [Theory]
    [InlineData("resilient:planes=2")]
    [InlineData("resilient:planes=0,rows=2/raw")]
    [InlineData("resilient:rows=2,conceal=guess/raw")]
    [InlineData("resilient:rows=2/resilient:rows=2/raw")]
    [InlineData("resilient:rows=2,colour=red/raw")]
    public void BadSpecsAreRefused(string spec) => Assert.Throws<ArgumentException>(() => FeatureCodecs.Create(spec));

    [Fact]
    public void AClaimBeyondTheLimitsIsRefusedBeforeAllocating()
    {
        byte[] frame = FeatureCodecs.Create("resilient:planes=2,rows=2/raw").Encode(SmoothTensor(), Shape);
        var limits = new DecodeLimits { MaxDecodedBytes = 100 };
        Assert.Equal(FrameError.LimitExceeded, Assert.Throws<FrameFormatException>(() => FeatureFrame.Decode(frame, out _, limits)).Error);
    }

    [Fact]
    public void FuzzSmokeDamagedFramesOnlyConcealOrFailTyped()
    {
        var report = ResilientFrameFuzzer.Run(3_000, seed: 7);
        Assert.Equal(0, report.UnexpectedCount);
        Assert.Equal(0, report.CasesOverAllocationLimit);
        Assert.True(report.Outcomes.GetValueOrDefault("concealed") > 300, string.Join(", ", report.Outcomes));
    }
}
