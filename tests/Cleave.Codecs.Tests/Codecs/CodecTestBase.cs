using Cleave.Codecs;
using CsCheck;

namespace Cleave.Codecs.Tests.Codecs;

/// <summary>
/// The tests every codec must pass, inherited by one small class per codec (as dotnet/runtime does for its
/// compression streams). Subclasses give the spec and the error each element may have.
/// </summary>
public abstract class CodecTestBase
{
    protected abstract string Spec { get; }

    /// <summary>The largest allowed |x - x'| for each finite x of a tensor, given all of the tensor's values.</summary>
    protected abstract Func<float, double> ToleranceFor(float[] all);

    protected FeatureCodec Codec => FeatureCodecs.Create(Spec);

    protected static float[] Decode(byte[] frame, out TensorShape shape) => FeatureFrame.Decode(frame, out shape);

    [Fact]
    public void SpecRoundTripsThroughItsCanonicalForm()
    {
        var again = FeatureCodecs.Create(Codec.Spec);
        Assert.Equal(Codec.Spec, again.Spec);
        Assert.Equal(Codec.ParameterBytes.ToArray(), again.ParameterBytes.ToArray());
    }

    [Fact]
    public void EmptyTensorRoundTrips()
    {
        var shape = new TensorShape(0, 3);
        var decoded = Decode(Codec.Encode([], shape), out var decodedShape);
        Assert.Equal(shape, decodedShape);
        Assert.Empty(decoded);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(1.5f)]
    [InlineData(-7.25f)]
    public void SingleElementRoundTrips(float value)
    {
        var decoded = Decode(Codec.Encode([value], new TensorShape(1)), out _);
        Assert.Single(decoded);
        Assert.InRange(Math.Abs(decoded[0] - value), 0, ToleranceFor([value])(value));
    }

    [Fact]
    public void ScalarShapeRoundTrips()
    {
        var decoded = Decode(Codec.Encode([3f], new TensorShape()), out var shape);
        Assert.Equal(0, shape.Rank);
        Assert.InRange(Math.Abs(decoded[0] - 3f), 0, ToleranceFor([3f])(3f));
    }

    [Fact]
    public void RandomShapesAndValuesRoundTripWithinTolerance()
    {
        var dims = Gen.Int[1, 6].Array[1, 4];
        Gen.Select(dims, Gen.Int, Gen.Double[0.001, 1000])
            .Sample((d, seed, spread) =>
            {
                var shape = new TensorShape(d);
                var random = new Random(seed);
                var values = new float[shape.ElementCount];
                for (int i = 0; i < values.Length; i++)
                    values[i] = random.Next(4) == 0 ? 0f : (float)((random.NextDouble() * 2 - 1) * spread);
                var decoded = Decode(Codec.Encode(values, shape), out var decodedShape);
                Assert.Equal(shape, decodedShape);
                var tolerance = ToleranceFor(values);
                for (int i = 0; i < values.Length; i++)
                    Assert.True(Math.Abs(decoded[i] - values[i]) <= tolerance(values[i]),
                        $"{Spec}: element {i} was {values[i]}, decoded {decoded[i]}");
            }, iter: 200);
    }

    [Fact]
    public void LargeReluLikeTensorRoundTrips()
    {
        var values = SyntheticTensors.ReluLike(64 * 56 * 56, seed: 3);
        var shape = new TensorShape(1, 64, 56, 56);
        var decoded = Decode(Codec.Encode(values, shape), out _);
        var tolerance = ToleranceFor(values);
        for (int i = 0; i < values.Length; i++)
            Assert.True(Math.Abs(decoded[i] - values[i]) <= tolerance(values[i]), $"element {i}");
    }

    [Fact]
    public void DecodeIntoCallerBufferMatchesDecodeToArray()
    {
        var values = SyntheticTensors.Gaussian(1000, seed: 5);
        byte[] frame = Codec.Encode(values, new TensorShape(10, 100));
        var buffer = new float[1200];
        var shape = FeatureFrame.Decode(frame, buffer);
        Assert.Equal(new TensorShape(10, 100), shape);
        Assert.Equal(FeatureFrame.Decode(frame, out _), buffer.AsSpan(0, 1000).ToArray());
        Assert.Throws<ArgumentException>(() => FeatureFrame.Decode(frame, new float[999]));
    }

    [Fact]
    public void FrameRecordsTheCodecThatMadeIt()
    {
        byte[] frame = Codec.Encode([1f, 2f], new TensorShape(2));
        var header = FeatureFrame.ReadHeader(frame);
        Assert.Equal(Codec.Spec, FeatureFrame.ReadCodec(frame, header).Spec);
    }

    /// <summary>
    /// <see cref="FeatureCodec.GetMaxEncodedLength"/> is a real bound: the frame writer asks the output for that much and
    /// writes the payload in place, so a frame longer than it would cost a copy. Tried on the values that code worst
    /// (random bit patterns, wide uniform noise), constant and special values, and tiny tensors (side information dominates).
    /// </summary>
    [Fact]
    public void EveryFrameFitsTheMaximumEncodedLength()
    {
        Gen.Select(Gen.Int[0, 5], Gen.Int[1, 3000], Gen.Int).Sample((kind, count, seed) =>
        {
            var random = new Random(seed);
            var values = new float[count];
            for (int i = 0; i < count; i++)
                values[i] = kind switch
                {
                    0 => BitConverter.Int32BitsToSingle(random.Next()) is var f && float.IsFinite(f) ? f : 0f,
                    1 => (float)(random.NextDouble() * 2e6 - 1e6),
                    2 => 7.5f,
                    3 => i % 3 == 0 ? float.NaN : i % 3 == 1 ? float.PositiveInfinity : -1f,
                    4 => (float)random.NextDouble(),
                    _ => random.Next(2) == 0 ? 0f : (float)(random.NextDouble() * 1e-3),
                };
            var shape = new TensorShape(1, count);
            byte[] frame;
            try { frame = Codec.Encode(values, shape); }
            catch (ArgumentException) { return; } // a codec that refuses non-finite values
            Assert.True(frame.Length <= Codec.GetMaxEncodedLength(shape), $"{Spec}: {count} values of kind {kind} made {frame.Length} bytes, bound {Codec.GetMaxEncodedLength(shape)}");
        }, iter: 60);
    }

    /// <summary>The non-throwing decode gives what the throwing one gives, into the caller's buffer, and says how much it read.</summary>
    [Fact]
    public void TryDecodeMatchesDecode()
    {
        var values = SyntheticTensors.ReluLike(600, seed: 9);
        byte[] frame = Codec.Encode(values, new TensorShape(6, 100));
        var buffer = new float[700];
        Assert.Equal(System.Buffers.OperationStatus.Done, FeatureFrame.TryDecode(frame, buffer, out var shape, out int consumed));
        Assert.Equal(new TensorShape(6, 100), shape);
        Assert.Equal(frame.Length, consumed);
        Assert.Equal(FeatureFrame.Decode(frame, out _), buffer.AsSpan(0, 600).ToArray());
    }

    [Fact]
    public void ValuesThatDoNotFillTheShapeAreRefused() =>
        Assert.Throws<ArgumentException>(() => Codec.Encode([1f, 2f, 3f], new TensorShape(2, 2)));
}

/// <summary>Codecs that reproduce every bit, NaN payloads and signed zeros included.</summary>
public abstract class LosslessCodecTestBase : CodecTestBase
{
    protected override Func<float, double> ToleranceFor(float[] all) => _ => 0;

    [Fact]
    public void RoundTripIsBitExactIncludingSpecialValues()
    {
        float[] values = [0f, -0f, float.NaN, BitConverter.UInt32BitsToSingle(0x7FC12345), float.PositiveInfinity,
            float.NegativeInfinity, float.Epsilon, float.MaxValue, float.MinValue, 1e-40f, 3.14159f];
        var decoded = Decode(Codec.Encode(values, new TensorShape(values.Length)), out _);
        Assert.Equal(values.Select(BitConverter.SingleToUInt32Bits), decoded.Select(BitConverter.SingleToUInt32Bits));
        Assert.True(Codec.IsLossless);
    }

    [Fact]
    public void RandomBitPatternsRoundTripExactly()
    {
        Gen.UInt.Array[0, 300].Sample(bits =>
        {
            var values = bits.Select(BitConverter.UInt32BitsToSingle).ToArray();
            var decoded = Decode(Codec.Encode(values, new TensorShape(values.Length)), out _);
            Assert.Equal(bits, decoded.Select(BitConverter.SingleToUInt32Bits).ToArray());
        }, iter: 100);
    }
}
