using System.Buffers.Binary;
using Cleave.Codecs.Tests.Slicer;

namespace Cleave.Codecs.Tests.RansIfc;

/// <summary>The opt-in source-coding stages of rans-ifc: per-channel gains (<c>gains=</c>) and RDO quantization (<c>rdo=</c>).</summary>
public sealed class ChannelGainsAndRdoTests
{
    private static readonly TensorShape MapShape = new(1, 16, 28, 28);
    private const int Plane = 28 * 28;

    private static float[] SmoothMaps(int seed) => StructuredFeatures.SpatialBlobs(16, 28, 28, zeroFraction: 0.4, seed);

    /// <summary>Channel c gets gain 2^((k − 128)/16): half the channels at 1/2, the other half at 2.</summary>
    private static string HalfAndDouble => string.Concat(Enumerable.Range(0, 16).Select(c => c % 2 == 0 ? "70" : "90"));

    [Fact]
    public void GainsScaleEachChannelBeforeQuantizingAndBackAfterDecoding()
    {
        var values = SmoothMaps(seed: 1);
        var codec = (RansIfcCodec)FeatureCodecs.Create("rans-ifc:bits=3,levels=6,clip=3,ctx=2d,gains=" + HalfAndDouble);
        byte[] frame = codec.Encode(values, MapShape);
        var decoded = FeatureFrame.Decode(frame, out _);
        Assert.Equal(codec.Spec, FeatureFrame.ReadCodec(frame, FeatureFrame.ReadHeader(frame)).Spec);

        // Exactly the plain codec on the scaled tensor, then each channel times the inverse gain.
        var scaled = new float[values.Length];
        for (int i = 0; i < values.Length; i++) scaled[i] = values[i] * ChannelGains.GainOf((i / Plane) % 2 == 0 ? (byte)0x70 : (byte)0x90);
        var plain = FeatureFrame.Decode(FeatureCodecs.Create("rans-ifc:bits=3,levels=6,clip=3,ctx=2d").Encode(scaled, MapShape), out _);
        for (int i = 0; i < values.Length; i++)
        {
            float inverse = (i / Plane) % 2 == 0 ? 2f : 0.5f;
            Assert.Equal(plain[i] * inverse, decoded[i]);
        }

        // The channels at gain 1/2 have a grid step 4x the others', so 4x the error (squared: ~16x).
        double errorLow = 0, errorHigh = 0;
        for (int i = 0; i < values.Length; i++)
        {
            double e = (double)(values[i] - decoded[i]) * (values[i] - decoded[i]);
            if ((i / Plane) % 2 == 0) errorLow += e; else errorHigh += e;
        }
        Assert.True(errorLow > 4 * errorHigh, $"squared error at gain 1/2: {errorLow:G4}, at gain 2: {errorHigh:G4}");
    }

    [Fact]
    public void LowGainsMakeTheirChannelsCheap()
    {
        var values = SmoothMaps(seed: 2);
        int plain = FeatureCodecs.Create("rans-ifc:bits=4,ctx=2d").Encode(values, MapShape).Length;
        // Half the channels at 1/4 of the others' gain: their symbols collapse onto a few levels.
        string quarter = string.Concat(Enumerable.Range(0, 16).Select(c => c < 8 ? "60" : "80"));
        int weighted = FeatureCodecs.Create("rans-ifc:bits=4,ctx=2d,gains=" + quarter).Encode(values, MapShape).Length;
        Assert.True(weighted < 0.8 * plain, $"gains {weighted} B, plain {plain} B");
    }

    [Fact]
    public void SpecsParseCanonicallyAndBadGainsAreRefused()
    {
        string spec = "rans-ifc:bits=3,levels=6,clip=3,ctx=2d,rdo=0.15,gains=" + HalfAndDouble;
        var codec = (RansIfcCodec)FeatureCodecs.Create(spec);
        Assert.Equal(spec, codec.Spec);
        Assert.Equal(150, codec.RdoThousandths);
        Assert.Equal(16, codec.Gains!.Channels);
        // Upper-case hex and key order do not matter; the canonical spec is lower case, rdo before gains.
        Assert.Equal(spec, FeatureCodecs.Create("rans-ifc:gains=" + HalfAndDouble.ToUpperInvariant() + ",bits=3,levels=6,clip=3,rdo=0.150,ctx=2d").Spec);
        Assert.Equal(spec, FeatureCodecs.Create(codec.Spec).Spec);
        Assert.Equal(8 + 2 + 2 + 16, codec.ParameterBytes.Length);
        Assert.Equal(2 | 4 | 8, codec.ParameterBytes[7]);
        // Gains alone (no layout option) still allow a fixed ncols.
        Assert.Equal("rans-ifc:bits=4,ncols=8,gains=8080", FeatureCodecs.Create("rans-ifc:bits=4,ncols=8,gains=8080").Spec);

        Assert.Throws<ArgumentException>(() => FeatureCodecs.Create("rans-ifc:bits=3,gains=808"));
        Assert.Throws<ArgumentException>(() => FeatureCodecs.Create("rans-ifc:bits=3,gains=80zz"));
        Assert.Throws<ArgumentException>(() => FeatureCodecs.Create("rans-ifc:bits=3,rdo=0.1"));
        Assert.Throws<ArgumentException>(() => FeatureCodecs.Create("rans-ifc:bits=3,ctx=2d,rdo=0"));
        Assert.Throws<ArgumentException>(() => FeatureCodecs.Create("rans-ifc:bits=3,ctx=2d,rdo=70"));
        Assert.Throws<ArgumentException>(() => FeatureCodecs.Create("rans-ifc:bits=3,ctx=2d,rdo=x"));
        Assert.Throws<ArgumentException>(() => FeatureCodecs.Create("rans-ifc:bits=3,gains=" + new string('8', 2 * ChannelGains.MaxChannels + 2)));
    }

    [Fact]
    public void GainsThatDoNotFitTheTensorAreRefusedOnBothSides()
    {
        var codec = FeatureCodecs.Create("rans-ifc:bits=4,gains=" + HalfAndDouble);
        var values = SmoothMaps(seed: 3);
        Assert.Throws<ArgumentException>(() => codec.Encode(values, new TensorShape(1, 8, 56, 28)));
        Assert.Throws<ArgumentException>(() => codec.Encode(values, new TensorShape(16, 784)));

        // A frame whose header claims another channel count for the same element count: refused as parameters.
        byte[] frame = codec.Encode(values, MapShape);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(12), 8);  // dims[1]: 16 -> 8
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(16), 56); // dims[2]: 28 -> 56
        Recrc(frame);
        var e = Assert.Throws<FrameFormatException>(() => FeatureFrame.Decode(frame, out _));
        Assert.Equal(FrameError.BadParameters, e.Error);
    }

    [Theory]
    [InlineData(new byte[] { 3, 6, 0, 0, 0, 0x2C, 0x01, 4 })]                   // gains flag, no count
    [InlineData(new byte[] { 3, 6, 0, 0, 0, 0x2C, 0x01, 4, 0, 0 })]             // zero channels
    [InlineData(new byte[] { 3, 6, 0, 0, 0, 0x2C, 0x01, 4, 2, 0, 0x80 })]       // two channels, one byte
    [InlineData(new byte[] { 3, 6, 0, 0, 0, 0x2C, 0x01, 4, 1, 0, 0x80, 0x80 })] // one channel, two bytes
    [InlineData(new byte[] { 3, 6, 0, 0, 0, 0x2C, 0x01, 8, 150, 0 })]           // rdo without ctx=2d
    [InlineData(new byte[] { 3, 6, 0, 0, 0, 0x2C, 0x01, 10, 0, 0 })]            // rdo of 0
    [InlineData(new byte[] { 3, 6, 0, 0, 0, 0x2C, 0x01, 10, 150 })]             // rdo cut short
    [InlineData(new byte[] { 3, 6, 0, 0, 0, 0x2C, 0x01, 16 })]                  // unknown flag
    public void MalformedOptionParametersAreBadParameters(byte[] parameters)
    {
        var e = Assert.Throws<FrameFormatException>(() => RansIfcCodec.FromParameters(parameters));
        Assert.Equal(FrameError.BadParameters, e.Error);
    }

    [Fact]
    public void RdoSpendsFewerBytesForALittleMoreErrorAndDecodesWithThePlainDecoder()
    {
        var values = SmoothMaps(seed: 4);
        byte[] plain = FeatureCodecs.Create("rans-ifc:bits=3,levels=6,clip=3,ctx=2d").Encode(values, MapShape);
        byte[] rdo = FeatureCodecs.Create("rans-ifc:bits=3,levels=6,clip=3,ctx=2d,rdo=0.2").Encode(values, MapShape);
        var plainValues = FeatureFrame.Decode(plain, out _);
        var rdoValues = FeatureFrame.Decode(rdo, out _);
        double plainSnr = Analysis.Distortion.Measure(values, plainValues).SnrDb, rdoSnr = Analysis.Distortion.Measure(values, rdoValues).SnrDb;
        Assert.True(rdo.Length < 0.95 * plain.Length, $"rdo {rdo.Length} B, plain {plain.Length} B");
        Assert.InRange(rdoSnr, plainSnr - 3.5, plainSnr); // 17.5 -> 14.8 dB on these maps at rdo=0.2

        // Same grid: every value moved by at most one level from its nearest one (inside the clipped range).
        var grid = ((RansIfcCodec)FeatureCodecs.Create("rans-ifc:bits=3,levels=6,clip=3")).FitParameters(values);
        double lo = -grid.ZeroPoint * (double)grid.Scale, hi = (5 - grid.ZeroPoint) * (double)grid.Scale;
        for (int i = 0; i < values.Length; i++)
            if (values[i] >= lo && values[i] <= hi) Assert.True(Math.Abs(values[i] - rdoValues[i]) <= grid.Scale * 1.0001, $"element {i}");
    }

    [Fact]
    public void RdoAndGainsRoundTripOnOddShapesAndEmptyTensors()
    {
        var codec = FeatureCodecs.Create("rans-ifc:bits=4,ctx=2d,rdo=0.1,gains=7888");
        foreach (var shape in new[] { new TensorShape(2, 1, 1), new TensorShape(2, 3, 1), new TensorShape(3, 2, 5, 7), new TensorShape(2, 0, 4) })
        {
            var values = SyntheticTensors.Gaussian(shape.ElementCount, seed: shape.ElementCount);
            var decoded = FeatureFrame.Decode(codec.Encode(values, shape), out _);
            Assert.Equal(values.Length, decoded.Length);
            Assert.All(decoded, v => Assert.True(float.IsFinite(v)));
        }
    }

    [Fact]
    public void GainsComeFromSensitivitiesAsTheirSquareRootAroundTheGeometricMean()
    {
        var gains = ChannelGains.FromSensitivities([1, 4, 16, 0]);
        // Geometric mean of (1, 4, 16, floor 1) = 2.83; sqrt(w / gm): 0.59, 1.19, 2.38, 0.59.
        Assert.Equal(ChannelGains.CodeFor(Math.Sqrt(1 / Math.Pow(64, 0.25))), gains.Codes[0]);
        Assert.Equal(ChannelGains.CodeFor(Math.Sqrt(16 / Math.Pow(64, 0.25))), gains.Codes[2]);
        Assert.Equal(gains.Codes[0], gains.Codes[3]);
        Assert.Equal(128, ChannelGains.CodeFor(1));
        Assert.Equal(144, ChannelGains.CodeFor(2));
        Assert.Equal(255, ChannelGains.CodeFor(1e9));
        Assert.Equal(0, ChannelGains.CodeFor(1e-9));
        Assert.Equal(2f, ChannelGains.GainOf(144));
    }

    private static void Recrc(byte[] frame) =>
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(frame.Length - 4), Crc32C.Compute(frame.AsSpan(0, frame.Length - 4)));
}
