using Cleave.Codecs.Quantization;

namespace Cleave.Codecs.Tests.Codecs;

/// <summary>Per-tensor quantization: the shared codec tests with the bound max error &lt;= scale / 2.</summary>
public abstract class QuantCodecTestBase : CodecTestBase
{
    protected abstract int Bits { get; }

    protected override Func<float, double> ToleranceFor(float[] all)
    {
        // Per-channel steps are never larger than the per-tensor step, so the per-tensor bound covers both.
        var p = UniformQuantizer.Fit(all, Bits);
        // scale/2, plus float32 rounding in x/scale + zero point and in (q - zero point) * scale.
        return x => p.Scale * (0.5 + 1e-4) + Math.Abs(x) * 1e-6;
    }
}

public sealed class Quant8CodecTests : QuantCodecTestBase
{
    protected override int Bits => 8;
    protected override string Spec => "quant:bits=8";
}

public sealed class Quant4ZstdCodecTests : QuantCodecTestBase
{
    protected override int Bits => 4;
    protected override string Spec => "quant:bits=4,entropy=zstd,level=1";
}

public sealed class Quant12DeflateCodecTests : QuantCodecTestBase
{
    protected override int Bits => 12;
    protected override string Spec => "quant:bits=12,entropy=deflate,level=6";
}

public sealed class Quant3PerChannelCodecTests : QuantCodecTestBase
{
    protected override int Bits => 3;
    protected override string Spec => "quant:bits=3,per=channel,axis=0";
}

public sealed class QuantBehaviourTests
{
    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(3)] [InlineData(5)] [InlineData(7)] [InlineData(8)]
    [InlineData(9)] [InlineData(11)] [InlineData(13)] [InlineData(16)]
    public void MaxErrorIsAtMostHalfAStepForEveryBitWidth(int bits)
    {
        var values = SyntheticTensors.Gaussian(5000, seed: bits, mean: 3, std: 10);
        var codec = FeatureCodecs.Create($"quant:bits={bits}");
        var p = UniformQuantizer.Fit(values, bits);
        var decoded = FeatureFrame.Decode(codec.Encode(values, new TensorShape(values.Length)), out _);
        double worst = values.Select((v, i) => Math.Abs(v - decoded[i])).Max();
        Assert.True(worst <= p.Scale * (0.5 + 1e-4) + 40 * 1e-6, $"max error {worst} exceeds scale/2 = {p.Scale / 2}");
        Assert.True(worst > p.Scale * 0.3, "a Gaussian tensor should come close to the bound; a much smaller error means the grid is wrong");
    }

    [Fact]
    public void ZeroIsExactWhenInRange()
    {
        var values = SyntheticTensors.ReluLike(10000, seed: 2);
        var decoded = FeatureFrame.Decode(FeatureCodecs.Create("quant:bits=4").Encode(values, new TensorShape(values.Length)), out _);
        for (int i = 0; i < values.Length; i++)
            if (values[i] == 0) Assert.Equal(0f, decoded[i]);
    }

    [Fact]
    public void ConstantTensorIsExact()
    {
        foreach (float c in new[] { 0f, 5f, -3.5f, 1e-30f })
        {
            var values = Enumerable.Repeat(c, 17).ToArray();
            var decoded = FeatureFrame.Decode(FeatureCodecs.Create("quant:bits=2").Encode(values, new TensorShape(17)), out _);
            Assert.All(decoded, d => Assert.Equal(c, d));
        }
    }

    [Fact]
    public void NonFiniteValuesFollowTheStatedPolicy()
    {
        // NaN is quantized as 0; +Inf and -Inf saturate to the top and bottom of the finite range.
        float[] values = [-2f, 0f, 6f, float.NaN, float.PositiveInfinity, float.NegativeInfinity];
        var decoded = FeatureFrame.Decode(FeatureCodecs.Create("quant:bits=8").Encode(values, new TensorShape(6)), out _);
        var p = UniformQuantizer.Fit(values, 8);
        Assert.Equal(0f, decoded[3]);
        Assert.InRange(decoded[4], 6f - p.Scale, 6f + p.Scale);
        Assert.InRange(decoded[5], -2f - p.Scale, -2f + p.Scale);
    }

    [Fact]
    public void AllNonFiniteTensorDecodesToZerosAndInfinitiesSaturated()
    {
        float[] values = [float.NaN, float.NaN];
        var decoded = FeatureFrame.Decode(FeatureCodecs.Create("quant:bits=8").Encode(values, new TensorShape(2)), out _);
        Assert.Equal([0f, 0f], decoded);
    }

    [Fact]
    public void PerChannelBeatsPerTensorWhenChannelRangesDiffer()
    {
        var shape = new TensorShape(1, 4, 16, 16);
        var values = new float[shape.ElementCount];
        var random = new Random(7);
        for (int c = 0; c < 4; c++)
            for (int i = 0; i < 256; i++) values[c * 256 + i] = (float)(random.NextDouble() * Math.Pow(10, c - 2));
        double Mse(string spec)
        {
            var d = FeatureFrame.Decode(FeatureCodecs.Create(spec).Encode(values, shape), out _);
            return values.Take(256).Select((v, i) => (v - d[i]) * (double)(v - d[i])).Average(); // the smallest channel
        }
        Assert.True(Mse("quant:bits=4,per=channel") < Mse("quant:bits=4") / 100);
    }

    [Fact]
    public void PerChannelAxisMustExist() =>
        Assert.Throws<ArgumentException>(() => FeatureCodecs.Create("quant:bits=4,per=channel,axis=3").Encode([1f, 2f], new TensorShape(2)));

    [Fact]
    public void QuantizerMatchesAScalarReference()
    {
        // Runs the SIMD path normally and the scalar path under DOTNET_EnableHWIntrinsic=0 (CI): both must match this.
        var values = SyntheticTensors.Gaussian(10007, seed: 11, std: 4);
        values[5] = float.NaN; values[77] = float.PositiveInfinity; values[78] = float.NegativeInfinity;
        foreach (int bits in new[] { 1, 4, 8 })
        {
            var p = UniformQuantizer.Fit(values, bits);
            var bytes = new byte[values.Length];
            var words = new ushort[values.Length];
            UniformQuantizer.Quantize(values, p, bytes);
            UniformQuantizer.Quantize(values, p, words);
            float inverse = 1f / p.Scale, offset = p.ZeroPoint + 0.5f;
            for (int i = 0; i < values.Length; i++)
            {
                float x = float.IsNaN(values[i]) ? 0 : values[i];
                float u = x * inverse;
                u += offset;
                int expected = (int)Math.Min(Math.Max(u, 0f), p.MaxLevel);
                Assert.Equal(expected, bytes[i]);
                Assert.Equal(expected, words[i]);
            }
            var back = new float[values.Length];
            UniformQuantizer.Dequantize(bytes, p, back);
            for (int i = 0; i < values.Length; i++) Assert.Equal(((float)bytes[i] - p.ZeroPoint) * p.Scale, back[i]);
        }
    }

    [Fact]
    public void FiniteRangeIgnoresNonFiniteValues()
    {
        var values = SyntheticTensors.Gaussian(1001, seed: 1);
        values[3] = float.NaN; values[500] = float.PositiveInfinity; values[1000] = float.NegativeInfinity;
        var (min, max) = UniformQuantizer.FiniteRange(values);
        Assert.Equal(values.Where(float.IsFinite).Min(), min);
        Assert.Equal(values.Where(float.IsFinite).Max(), max);
    }

    [Theory]
    [InlineData("quant:bits=0")]
    [InlineData("quant:bits=17")]
    [InlineData("quant:bits=8,per=row")]
    [InlineData("quant:bits=8,entropy=lzma")]
    [InlineData("quant:bits=8,colour=blue")]
    [InlineData("quant:bits")]
    [InlineData("nosuchcodec")]
    public void BadSpecsAreRefusedWithAReason(string spec)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => FeatureCodecs.Create(spec));
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
    }

    [Theory]
    [InlineData(1)] [InlineData(3)] [InlineData(8)] [InlineData(13)] [InlineData(16)]
    public void BitPackingRoundTrips(int bits)
    {
        var random = new Random(bits);
        var symbols = Enumerable.Range(0, 1001).Select(_ => (ushort)random.Next(1 << bits)).ToArray();
        var packed = new byte[BitPacking.PackedLength(symbols.Length, bits)];
        BitPacking.Pack(symbols, bits, packed);
        var back = new ushort[symbols.Length];
        BitPacking.Unpack(packed, bits, back);
        Assert.Equal(symbols, back);
    }
}

public sealed class Quant8RansCodecTests : QuantCodecTestBase
{
    protected override int Bits => 8;
    protected override string Spec => "quant:bits=8,entropy=rans";
}

public sealed class Quant4RansPerChannelCodecTests : QuantCodecTestBase
{
    protected override int Bits => 4;
    protected override string Spec => "quant:bits=4,per=channel,axis=0,entropy=rans,k=11";
}

public sealed class Quant12RansCodecTests : QuantCodecTestBase
{
    protected override int Bits => 12;
    protected override string Spec => "quant:bits=12,entropy=rans,k=15";
}

public sealed class QuantRansEfficiencyTests
{
    [Theory]
    [InlineData(8)]
    [InlineData(4)]
    public void RansFrameIsCloseToTheEntropyBoundAndBeatsZstd(int bits)
    {
        // The target, at codec level: 1,000,000-element ReLU-like tensor, rANS-coded payload within 1% of
        // the order-0 bound plus table bytes (the whole frame overhead is counted against us here), smaller than zstd -1.
        var values = SyntheticTensors.ReluLike(1_000_000, seed: 1);
        var shape = new TensorShape(1_000_000);
        var rans = FeatureCodecs.Create($"quant:bits={bits},entropy=rans");
        var zstd = FeatureCodecs.Create($"quant:bits={bits},entropy=zstd,level=1");
        double bound = rans.EntropyBoundBytes(values, shape)!.Value;
        int ransBytes = rans.Encode(values, shape).Length;
        int zstdBytes = zstd.Encode(values, shape).Length;
        Assert.True(ransBytes <= bound * 1.01 + 600, $"rANS frame {ransBytes} B vs entropy bound {bound:F0} B");
        Assert.True(ransBytes < zstdBytes, $"rANS {ransBytes} B should beat zstd -1 {zstdBytes} B");
    }

    [Fact]
    public void RansRefusesMoreThan12Bits() =>
        Assert.ThrowsAny<ArgumentException>(() => FeatureCodecs.Create("quant:bits=13,entropy=rans"));
}
