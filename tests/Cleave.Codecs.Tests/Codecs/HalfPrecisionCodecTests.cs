namespace Cleave.Codecs.Tests.Codecs;

public sealed class Fp16CodecTests : CodecTestBase
{
    protected override string Spec => "fp16";

    // Half has an 11-bit significand: relative error 2^-11, plus the subnormal step 2^-24 near zero.
    protected override Func<float, double> ToleranceFor(float[] all) => x => Math.Abs(x) * Math.ScaleB(1, -11) + Math.ScaleB(1, -25);

    [Fact]
    public void SpecialValuesFollowTheStatedPolicy()
    {
        float[] values = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 70000f, -70000f, 65504f];
        var decoded = Decode(Codec.Encode(values, new TensorShape(values.Length)), out _);
        Assert.True(float.IsNaN(decoded[0]));
        Assert.Equal([float.PositiveInfinity, float.NegativeInfinity, float.PositiveInfinity, float.NegativeInfinity, 65504f], decoded[1..]);
    }
}

public sealed class Bf16CodecTests : CodecTestBase
{
    protected override string Spec => "bf16";

    // bfloat16 keeps 8 significand bits: round to nearest gives relative error at most 2^-9.
    protected override Func<float, double> ToleranceFor(float[] all) => x => Math.Abs(x) * Math.ScaleB(1, -8);

    [Fact]
    public void SpecialValuesFollowTheStatedPolicy()
    {
        float[] values = [float.NaN, BitConverter.UInt32BitsToSingle(0x7F800001), float.PositiveInfinity, float.NegativeInfinity, float.MaxValue];
        var decoded = Decode(Codec.Encode(values, new TensorShape(values.Length)), out _);
        Assert.True(float.IsNaN(decoded[0]));
        Assert.True(float.IsNaN(decoded[1]), "a signalling NaN whose payload sits in the dropped bits must stay a NaN");
        Assert.Equal(float.PositiveInfinity, decoded[2]);
        Assert.Equal(float.NegativeInfinity, decoded[3]);
        Assert.True(float.IsInfinity(decoded[4]) || decoded[4] > 3e38f); // float.MaxValue rounds up to Inf, like a cast
    }

    [Fact]
    public void RoundsToNearestEven()
    {
        // 1 + 2^-8 lies exactly halfway between bf16 1.0 and 1 + 2^-7: ties go to the even mantissa (1.0).
        Assert.Equal(1f, Bf16Codec.FromBFloat16(Bf16Codec.ToBFloat16(1f + MathF.ScaleB(1, -8))));
        Assert.Equal(1f + MathF.ScaleB(1, -6), Bf16Codec.FromBFloat16(Bf16Codec.ToBFloat16(1f + MathF.ScaleB(1, -7) + MathF.ScaleB(1, -8))));
    }
}
