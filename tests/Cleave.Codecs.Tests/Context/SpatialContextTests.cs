using Cleave.Codecs.Entropy;
using Cleave.Codecs.Tests.RansIfc;
using Cleave.Codecs.Tests.Slicer;

namespace Cleave.Codecs.Tests.Context;

/// <summary>The shared codec properties with <c>ctx=2d</c> (random tensors: the plain coding usually wins there).</summary>
public sealed class RansIfcContextCodecTests : RansIfcCodecTestBase
{
    protected override string Spec => "rans-ifc:bits=6,ctx=2d";
}

public sealed class RansIfcContextAndRowsCodecTests : RansIfcCodecTestBase
{
    protected override string Spec => "rans-ifc:bits=3,levels=6,clip=3,rows=ref,ctx=2d";
}

public sealed class SlicerContextCodecTests : SlicerCodecTestBase
{
    protected override float Keep => 1f;
    protected override string Spec => "slicer:keep=1,asym=1,blocks=8,delta=0,rows=ref,ctx=2d";
}

public sealed class SpatialContextTests
{
    private static readonly TensorShape MapShape = new(1, 16, 28, 28);

    /// <summary>The payload's first byte: the layout (rans-ifc) or position layout (slicer).</summary>
    private static byte LayoutByte(byte[] frame) => frame[FeatureFrame.ReadHeader(frame).PayloadOffset];

    /// <summary>Smooth feature maps (spatial blobs): neighbours predict each other, as in real CNN features.</summary>
    private static float[] SmoothMaps(int seed) => StructuredFeatures.SpatialBlobs(16, 28, 28, zeroFraction: 0.4, seed);

    [Theory]
    [InlineData("rans-ifc:bits=3,levels=6,clip=3")]
    [InlineData("rans-ifc:bits=4")]
    [InlineData("rans-ifc:bits=8")]
    public void NeighboursShrinkSmoothMapsWithoutChangingTheDecodedValues(string spec)
    {
        var values = SmoothMaps(seed: 3);
        byte[] plain = FeatureCodecs.Create(spec).Encode(values, MapShape);
        byte[] context = FeatureCodecs.Create(spec + ",ctx=2d").Encode(values, MapShape);
        Assert.True(context.Length < 0.95 * plain.Length, $"{spec}: ctx=2d {context.Length} B, plain {plain.Length} B");
        Assert.Equal(RansIfcLayout.Context, (RansIfcLayout)LayoutByte(context));
        // Same grid, same symbols: only their coding differs, so the reconstruction is bit-identical.
        Assert.Equal(FeatureFrame.Decode(plain, out _), FeatureFrame.Decode(context, out _));
    }

    [Theory]
    [InlineData("slicer:keep=1,asym=1,blocks=8,delta=0.001")]
    [InlineData("slicer:keep=1,asym=1,blocks=4,delta=0.01")]
    [InlineData("slicer:target=snr:20,asym=1")]
    public void SlicerSendsSmoothMapsAsContextCodedRanksWithTheSameValues(string spec)
    {
        var values = SmoothMaps(seed: 6);
        byte[] plain = FeatureCodecs.Create(spec).Encode(values, MapShape);
        byte[] context = FeatureCodecs.Create(spec + ",ctx=2d").Encode(values, MapShape);
        Assert.True(context.Length < 0.97 * plain.Length, $"{spec}: ctx=2d {context.Length} B, plain {plain.Length} B");
        Assert.Equal(4, LayoutByte(context)); // PositionLayout.AllContext
        // Fixed settings: the same symbols, so the same values. A target search may settle on other settings once
        // bytes are cheaper; it must still meet its target.
        if (!spec.Contains("target=", StringComparison.Ordinal)) Assert.Equal(FeatureFrame.Decode(plain, out _), FeatureFrame.Decode(context, out _));
        else Assert.True(Analysis.Distortion.Measure(values, FeatureFrame.Decode(context, out _)).SnrDb >= 20);
        var codec = (SlicerCodec)FeatureCodecs.Create(spec + ",ctx=2d");
        Assert.True(codec.Settings.SpatialContext);
        Assert.EndsWith(",ctx=2d", codec.Spec);
        Assert.Equal(codec.Spec, FeatureCodecs.Create(codec.Spec).Spec);
    }

    [Fact]
    public void SlicerWithFilteringKeepsItsPositionsLayout()
    {
        // The context layout is for every value kept; with top-K filtering the survivors are coded as before.
        var values = SmoothMaps(seed: 7);
        byte[] plain = FeatureCodecs.Create("slicer:keep=0.25,asym=1,blocks=4,delta=0.01").Encode(values, MapShape);
        byte[] context = FeatureCodecs.Create("slicer:keep=0.25,asym=1,blocks=4,delta=0.01,ctx=2d").Encode(values, MapShape);
        Assert.Equal(plain.Length, context.Length);
        Assert.Equal(FeatureFrame.Decode(plain, out _), FeatureFrame.Decode(context, out _));
    }

    [Fact]
    public void WithoutSpatialStructureTheOptionCostsAtMostItsParameterByte()
    {
        var values = SyntheticTensors.Gaussian(MapShape.ElementCount, seed: 5);
        int plain = FeatureCodecs.Create("rans-ifc:bits=6").Encode(values, MapShape).Length;
        int context = FeatureCodecs.Create("rans-ifc:bits=6,ctx=2d").Encode(values, MapShape).Length;
        Assert.InRange(context, 1, plain + 1);
    }

    [Theory]
    [InlineData(new[] { 1 })]
    [InlineData(new[] { 7 })]
    [InlineData(new[] { 3, 1 })]
    [InlineData(new[] { 1, 5 })]
    [InlineData(new[] { 2, 3, 1, 4 })]
    public void OddShapesRoundTripExactlyLikeThePlainCodec(int[] dims)
    {
        var shape = new TensorShape(dims);
        var values = SyntheticTensors.Gaussian(shape.ElementCount, seed: dims.Length * 10 + dims[0]);
        var codec = new RansIfcCodec(bits: 4, spatialContext: true);
        byte[] frame = codec.Encode(values, shape);
        Assert.Equal(FeatureFrame.Decode(new RansIfcCodec(bits: 4).Encode(values, shape), out _), FeatureFrame.Decode(frame, out _));
    }

    [Fact]
    public void TwelveBitSymbolsAndAConstantTensorRoundTrip()
    {
        var values = SmoothMaps(seed: 8);
        var twelve = new RansIfcCodec(bits: 12, spatialContext: true);
        Assert.Equal(FeatureFrame.Decode(new RansIfcCodec(bits: 12).Encode(values, MapShape), out _),
            FeatureFrame.Decode(twelve.Encode(values, MapShape), out _));
        var constant = new float[MapShape.ElementCount];
        Array.Fill(constant, 2.5f);
        var decoded = FeatureFrame.Decode(new RansIfcCodec(bits: 3, levels: 6, spatialContext: true).Encode(constant, MapShape), out _);
        Assert.All(decoded, v => Assert.Equal(2.5f, v, 5));
    }

    [Fact]
    public void SpecAndParameterByteCarryBothOptions()
    {
        var both = (RansIfcCodec)FeatureCodecs.Create("rans-ifc:bits=3,levels=6,clip=3,rows=ref,ctx=2d");
        Assert.True(both.RowReferences && both.SpatialContext);
        Assert.Equal("rans-ifc:bits=3,levels=6,clip=3,rows=ref,ctx=2d", both.Spec);
        Assert.Equal(3, both.ParameterBytes[7]);
        var context = (RansIfcCodec)FeatureCodecs.Create("rans-ifc:bits=5,ctx=2d");
        Assert.Equal(2, context.ParameterBytes[7]);
        Assert.False(context.RowReferences);
        // Frames without the option keep their 7 parameter bytes (pinned frames elsewhere stay valid).
        Assert.Equal(7, FeatureCodecs.Create("rans-ifc:bits=5").ParameterBytes.Length);
        Assert.Throws<ArgumentException>(() => FeatureCodecs.Create("rans-ifc:bits=5,ncols=8,ctx=2d"));
        Assert.Throws<ArgumentException>(() => FeatureCodecs.Create("rans-ifc:bits=5,ctx=3d"));
    }

    [Fact]
    public void AFlagByteBeyondTheKnownOptionsIsRefused()
    {
        byte[] frame = FeatureCodecs.Create("rans-ifc:bits=5,ctx=2d").Encode(SmoothMaps(seed: 2), MapShape);
        var header = FeatureFrame.ReadHeader(frame);
        int flag = header.ParametersOffset + 7; // the 8th parameter byte
        Assert.Equal(2, frame[flag]);
        frame[flag] = 4;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(frame.Length - 4), Crc32C.Compute(frame.AsSpan(0, frame.Length - 4)));
        var e = Assert.Throws<FrameFormatException>(() => FeatureFrame.Decode(frame, out _));
        Assert.Equal(FrameError.BadParameters, e.Error);
    }

    [Fact]
    public void ATruncatedOrPaddedContextStreamIsCorrupt()
    {
        var values = SmoothMaps(seed: 4);
        var codec = new RansIfcCodec(bits: 3, levels: 6, clip: 3, spatialContext: true);
        byte[] frame = codec.Encode(values, MapShape);
        var header = FeatureFrame.ReadHeader(frame);
        Assert.Equal(RansIfcLayout.Context, (RansIfcLayout)frame[header.PayloadOffset]);
        var payload = frame.AsSpan(header.PayloadOffset, header.PayloadLength).ToArray();
        var destination = new float[MapShape.ElementCount];
        Assert.Throws<FrameFormatException>(() => codec.DecodePayload(payload.AsSpan(0, payload.Length - 1), MapShape, destination));
        Assert.Throws<FrameFormatException>(() => codec.DecodePayload([.. payload, 0], MapShape, destination));
    }
}

public sealed class BinaryRangeCoderTests
{
    [Theory]
    [InlineData(0.5, 1, 1.12)]
    [InlineData(0.02, 2, 1.12)]
    [InlineData(0.98, 3, 1.12)]
    // Long runs of one bit (0xFF runs and carries through the cache). A 1/32 window pays for every rare bit as it
    // re-learns: 3.7x the entropy here, still 40x smaller than the bits.
    [InlineData(0.0005, 4, 4.0)]
    public void AdaptiveBitsRoundTripAndApproachTheEntropy(double pOne, int seed, double maxOverEntropy)
    {
        var random = new Random(seed);
        var bits = new int[200_000];
        for (int i = 0; i < bits.Length; i++) bits[i] = random.NextDouble() < pOne ? 1 : 0;
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        var encoder = new BinaryRangeEncoder(output);
        var cell = AdaptiveBit.Initial;
        foreach (int b in bits)
        {
            encoder.Encode(cell.Probability, b);
            cell.Update(b);
        }
        encoder.Finish();
        Assert.Equal(output.WrittenCount, encoder.BytesWritten);

        var decoder = new BinaryRangeDecoder(output.WrittenSpan);
        var back = AdaptiveBit.Initial;
        for (int i = 0; i < bits.Length; i++)
        {
            int b = decoder.Decode(back.Probability);
            Assert.Equal(bits[i], b);
            back.Update(b);
        }
        decoder.ExpectExactEnd();

        double entropyBytes = bits.Length * Entropy(pOne) / 8;
        // A 1/32 window costs a few percent over the entropy on balanced bits, plus the 5 bytes of framing.
        Assert.InRange(output.WrittenCount, entropyBytes * 0.97, entropyBytes * maxOverEntropy + 40);
    }

    [Fact]
    public void AStreamThatDoesNotStartWithZeroOrIsTooShortIsRefused()
    {
        Assert.Throws<FrameFormatException>(() => new BinaryRangeDecoder([0, 1, 2]));
        Assert.Throws<FrameFormatException>(() => new BinaryRangeDecoder([1, 0, 0, 0, 0]));
    }

    private static double Entropy(double p) => p <= 0 || p >= 1 ? 0 : -(p * Math.Log2(p) + (1 - p) * Math.Log2(1 - p));
}
