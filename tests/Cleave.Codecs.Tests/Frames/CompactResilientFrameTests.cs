using System.Buffers.Binary;

namespace Cleave.Codecs.Tests.Frames;

/// <summary>Layout 2 of the resilient frame (docs/format.md, "Layout 2"): shared grid and context prior, compact groups.</summary>
public sealed class CompactResilientFrameTests
{
    private const string Inner = "rans-ifc:bits=3,levels=6,clip=3,ctx=2d";
    private const string Spec = "resilient:planes=1,rows=7,layout=2/" + Inner;
    private static readonly TensorShape Shape = new(1, 32, 28, 28);

    /// <summary>Smooth planes with noise, like a feature map: the context model has something to learn.</summary>
    private static float[] FeatureLike(int seed = 1)
    {
        var random = new Random(seed);
        var values = new float[Shape.ElementCount];
        for (int c = 0; c < 32; c++)
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < 28; x++)
                    values[(c * 28 + y) * 28 + x] = MathF.Max(0, MathF.Sin(0.3f * x + c) * MathF.Cos(0.2f * y) + 0.3f * (float)random.NextDouble() - 0.2f);
        return values;
    }

    private static (int Offset, int Length)[] GroupSpans(byte[] frame)
    {
        var header = ResilientHeader.TryRead(frame, DecodeLimits.Default)!;
        Assert.Equal(2, header.Layout);
        var spans = new (int, int)[header.GroupCount];
        int at = 2 * header.Length;
        for (int g = 0; g < spans.Length; g++)
        {
            spans[g] = (at, header.GroupLengths[g]);
            at += header.GroupLengths[g] + header.GroupCheckSize;
        }
        Assert.Equal(frame.Length, at);
        return spans;
    }

    [Fact]
    public void AnIntactFrameDecodesToExactlyWhatThePlainFrameOfTheInnerCodecDecodesTo()
    {
        var codec = (ResilientCodec)FeatureCodecs.Create(Spec);
        Assert.Equal(2, codec.Layout);
        Assert.Equal(codec.Spec, FeatureCodecs.Create(codec.Spec).Spec);
        var values = FeatureLike();
        byte[] frame = codec.Encode(values, Shape);
        Assert.Equal(2, frame[4]);
        var decoded = ResilientFrame.Decode(frame, out var result);
        Assert.True(result.IsIntact);
        Assert.Equal(7, result.Groups);
        // One grid for the whole tensor, fitted as the plain codec fits it: the same symbols, the same values.
        Assert.Equal(FeatureFrame.Decode(FeatureCodecs.Create(Inner).Encode(values, Shape), out _), decoded);
        Assert.Equal(decoded, FeatureFrame.Decode(frame, out var shape));
        Assert.Equal(Shape, shape);
        var buffer = new float[values.Length];
        Assert.True(ResilientFrame.Decode(frame, buffer).IsIntact);
        Assert.Equal(decoded, buffer);
    }

    [Fact]
    public void SharedStateMakesTheFrameSmallerThanLayoutOneAndThePriorNeverCostsBytes()
    {
        var values = FeatureLike();
        int layout1 = FeatureCodecs.Create("resilient:planes=1,rows=7/" + Inner).Encode(values, Shape).Length;
        int flat = FeatureCodecs.Create("resilient:planes=1,rows=7,layout=2,prior=none/" + Inner).Encode(values, Shape).Length;
        int withPrior = FeatureCodecs.Create(Spec).Encode(values, Shape).Length;
        Assert.True(flat < layout1, $"layout 2 without prior {flat} B, layout 1 {layout1} B");
        Assert.True(withPrior <= flat, $"with prior {withPrior} B, without {flat} B");
    }

    [Fact]
    public void ADamagedGroupIsConcealedAloneAndOneFlippedBitIsRepairedWhereverItFalls()
    {
        var values = FeatureLike();
        byte[] frame = FeatureCodecs.Create(Spec).Encode(values, Shape);
        var clean = ResilientFrame.Decode(frame, out _);
        var spans = GroupSpans(frame);
        byte[] twice = (byte[])frame.Clone();
        twice[spans[3].Offset + 5] ^= 0x10;
        twice[spans[3].Offset + 9] ^= 0x01;
        var decoded = ResilientFrame.Decode(twice, out var result);
        Assert.Equal([3], result.ConcealedGroups);
        int rowsPerGroup = 28 / 7;
        for (int c = 0; c < 32; c++)
            for (int y = 0; y < 28; y++)
                if (y / rowsPerGroup != 3)
                    for (int x = 0; x < 28; x++)
                        Assert.Equal(clean[(c * 28 + y) * 28 + x], decoded[(c * 28 + y) * 28 + x]);

        var random = new Random(5);
        for (int trial = 0; trial < 40; trial++)
        {
            byte[] copy = (byte[])frame.Clone();
            int group = random.Next(spans.Length);
            int bit = random.Next(8 * (spans[group].Length + 2)); // the 2-byte check's own bits too
            copy[spans[group].Offset + bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Equal(clean, ResilientFrame.Decode(copy, out var repaired));
            Assert.True(repaired.IsIntact);
            if (bit < 8 * spans[group].Length) Assert.Equal([group], repaired.RepairedGroups); // a flip in the check itself may count either way
        }
    }

    [Fact]
    public void ADamagedPriorOrHeaderFallsBackToTheSecondCopyAndHostileContentIsATypedError()
    {
        var values = FeatureLike();
        // 8 x 7 groups of 4 x 4 x 28 values: small groups, where relearning from flat costs most, so the encoder sends a prior.
        byte[] frame = FeatureCodecs.Create("resilient:planes=8,rows=7,layout=2/" + Inner).Encode(values, Shape);
        var header = ResilientHeader.TryRead(frame, DecodeLimits.Default)!;
        Assert.NotEmpty(header.Prior);
        var clean = ResilientFrame.Decode(frame, out _);
        int length = header.Length;
        for (int at = 7; at < length; at += 3) // every field of copy 1 in turn, prior included: two flips, beyond repair
        {
            byte[] copy = (byte[])frame.Clone();
            copy[at] ^= 0x21;
            Assert.Equal(clean, ResilientFrame.Decode(copy, out var result));
            Assert.True(result.HeaderFromSecondCopy);
        }
        byte[] both = (byte[])frame.Clone();
        both[length - 10] ^= 0x21;
        both[2 * length - 10] ^= 0x21;
        Assert.Equal(FrameError.ChecksumMismatch, Assert.Throws<FrameFormatException>(() => FeatureFrame.Decode(both, out _)).Error);

        // Hostile, not damaged: a checksum that holds over a prior naming context 55 (there are 49), or version 3.
        int priorMask = PriorMaskOffset(frame);
        Assert.Equal(FrameError.BadParameters, HostileCopies(frame, length, h => h[priorMask + 6] |= 0x80).Error);
        Assert.Equal(FrameError.UnsupportedVersion, HostileCopies(frame, length, h => h[4] = 3).Error);
    }

    /// <summary>Where the prior's context mask starts in a header copy: after the prior length, i.e. just before the
    /// mask's bytes; found as the offset whose 7 bytes parse as the header's prior.</summary>
    private static int PriorMaskOffset(byte[] frame)
    {
        var header = ResilientHeader.TryRead(frame, DecodeLimits.Default)!;
        // rank 4 dims 1,32,28,28 (4 varint bytes), conceal, K = 8, R = 7, Q + Q parameter bytes, scale (4), zero point (1), prior length (1-2).
        int at = 10 + 4 + 1 + 1 + 1 + 1 + header.Parameters.Length + 4 + 1;
        return at + (frame[at] >= 0x80 ? 2 : 1);
    }

    private static FrameFormatException HostileCopies(byte[] frame, int length, Action<byte[]> edit)
    {
        byte[] copy = (byte[])frame.Clone();
        foreach (int start in new[] { 0, length })
        {
            var h = copy.AsSpan(start, length).ToArray();
            edit(h);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(length - 4), Crc32C.Compute(h.AsSpan(0, length - 4)));
            h.CopyTo(copy, start);
        }
        return Assert.Throws<FrameFormatException>(() => FeatureFrame.Decode(copy, out _));
    }

    [Fact]
    public void ALostPlaneGroupIsConcealedByTheSentPlaneMeans()
    {
        var values = FeatureLike();
        byte[] frame = FeatureCodecs.Create("resilient:planes=8,rows=1,layout=2/" + Inner).Encode(values, Shape);
        var header = ResilientHeader.TryRead(frame, DecodeLimits.Default)!;
        Assert.Equal(32, header.PlaneMeans.Length);
        Assert.Empty(ResilientHeader.TryRead(FeatureCodecs.Create(Spec).Encode(values, Shape), DecodeLimits.Default)!.PlaneMeans); // K = 1: none
        var spans = GroupSpans(frame);
        frame[spans[2].Offset + 3] ^= 0x11; // group 2: planes 8..11, every row
        float halfStep = header.Grid.Scale / 2;
        foreach (var mode in new[] { ConcealmentMode.Mean, ConcealmentMode.Interpolate, ConcealmentMode.Zero })
        {
            var decoded = ResilientFrame.Decode(frame, out var result, conceal: mode);
            Assert.Equal([2], result.ConcealedGroups);
            for (int p = 8; p < 12; p++)
            {
                var plane = values.AsSpan(p * 28 * 28, 28 * 28);
                float mean = 0;
                foreach (float v in plane) mean += v / plane.Length;
                float concealed = decoded[p * 28 * 28 + 100];
                if (mode == ConcealmentMode.Zero) Assert.Equal(0f, concealed);
                else Assert.InRange(concealed, mean - halfStep / 2 - 1e-5f, mean + halfStep / 2 + 1e-5f); // half steps: within a quarter step
            }
        }
    }

    [Fact]
    public void TinyAndEmptyTensorsRoundTripAndTruncationConceals()
    {
        var codec = FeatureCodecs.Create("resilient:planes=4,rows=4,layout=2/" + Inner);
        Assert.Empty(FeatureFrame.Decode(codec.Encode([], new TensorShape(0, 3)), out var empty));
        Assert.Equal(new TensorShape(0, 3), empty);
        Assert.Equal([0f], FeatureFrame.Decode(codec.Encode([0f], new TensorShape()), out _));
        byte[] frame = FeatureCodecs.Create(Spec).Encode(FeatureLike(), Shape);
        var spans = GroupSpans(frame);
        ResilientFrame.Decode(frame[..(spans[4].Offset + 3)], out var result);
        Assert.Equal([4, 5, 6], result.ConcealedGroups);
        Assert.Equal(FrameError.TrailingBytes, Assert.Throws<FrameFormatException>(() => FeatureFrame.Decode([.. frame, 0], out _)).Error);
    }

    [Theory]
    [InlineData("resilient:rows=2,layout=2/raw")]
    [InlineData("resilient:rows=2,layout=2/rans-ifc:bits=3,levels=6")]
    [InlineData("resilient:rows=2,layout=2/rans-ifc:bits=3,ctx=2d,rows=ref")]
    [InlineData("resilient:rows=2,layout=2/rans-ifc:bits=10,ctx=2d")]
    [InlineData("resilient:rows=2,layout=3/rans-ifc:bits=3,ctx=2d")]
    [InlineData("resilient:rows=2,prior=none/rans-ifc:bits=3,ctx=2d")]
    public void SpecsLayoutTwoCannotServeAreRefused(string spec) => Assert.Throws<ArgumentException>(() => FeatureCodecs.Create(spec));

    [Fact]
    public void Crc16IsX25AndItsRepairNeverMistakesTwoFlipsForOne()
    {
        Assert.Equal(0x906E, Crc16.Compute("123456789"u8));
        var random = new Random(9);
        var block = new byte[320];
        random.NextBytes(block);
        ushort check = Crc16.Compute(block);
        int wrongRepairs = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            var copy = (byte[])block.Clone();
            int a = random.Next(8 * block.Length), b;
            do b = random.Next(8 * block.Length); while (b == a);
            copy[a / 8] ^= (byte)(1 << (a % 8));
            var one = (byte[])copy.Clone();
            Assert.True(SingleBitCorrection.TryRepair16(one, check));
            Assert.Equal(block, one);
            copy[b / 8] ^= (byte)(1 << (b % 8));
            if (SingleBitCorrection.TryRepair16(copy, check)) wrongRepairs++;
        }
        Assert.Equal(0, wrongRepairs); // Hamming distance 4: a double flip never looks like a single one

        // Three flips: the polynomial has the factor x + 1, so odd-weight errors (one flip, three flips) have syndromes in the
        // same half of the 65,536; a triple flip lands on a single flip's syndrome with probability about (8·320 + 16) / 32,768
        // = 7.9 % (measured 9.2 % here); the check then "holds" after a wrong repair and only the decoder's own checks can catch it.
        int missed = 0, trials = 3000;
        for (int trial = 0; trial < trials; trial++)
        {
            var copy = (byte[])block.Clone();
            var bits = new HashSet<int>();
            while (bits.Count < 3) bits.Add(random.Next(8 * block.Length));
            foreach (int bit in bits) copy[bit / 8] ^= (byte)(1 << (bit % 8));
            if (SingleBitCorrection.TryRepair16(copy, check)) missed++;
        }
        Assert.InRange(missed / (double)trials, 0.05, 0.12);
    }
}
