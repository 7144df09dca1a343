using Cleave.Codecs.Tests.Frames;
using Cleave.Codecs.Tests.RansIfc;
using Cleave.Codecs.Tests.Slicer;

namespace Cleave.Codecs.Tests.Rows;

/// <summary>The shared codec properties with <c>rows=ref</c> (random tensors: the plain coding usually wins there).</summary>
public sealed class RansIfcRowsCodecTests : RansIfcCodecTestBase
{
    protected override string Spec => "rans-ifc:bits=6,rows=ref";
}

public sealed class SlicerRowsCodecTests : SlicerCodecTestBase
{
    protected override float Keep => 1f;
    protected override string Spec => "slicer:keep=1,asym=1,blocks=8,delta=0,rows=ref";
}

public sealed class RowReferenceTests
{
    private static readonly TensorShape TokenShape = new(300, 64);

    /// <summary>
    /// 300 rows of 64, each one of 24 "token" rows with a quarter of its elements nudged by a little noise: what
    /// recurring tokens give at an early language-model layer (docs/codecs.md, "Row references").
    /// </summary>
    private static float[] TokenRows(int seed)
    {
        var tokens = SyntheticTensors.Gaussian(24 * 64, seed);
        var random = new Random(seed);
        var values = new float[TokenShape.ElementCount];
        for (int row = 0; row < 300; row++)
        {
            int token = random.Next(24);
            for (int c = 0; c < 64; c++)
                values[row * 64 + c] = tokens[token * 64 + c] + (random.Next(4) == 0 ? (float)(random.NextDouble() - 0.5) * 0.05f : 0);
        }
        return values;
    }

    private static int PayloadOffset(int rank, int parameterBytes) => 8 + 4 * rank + 2 + parameterBytes + 4;

    [Theory]
    [InlineData("rans-ifc:bits=5")]
    [InlineData("rans-ifc:bits=8")]
    [InlineData("slicer:keep=1,asym=1,blocks=8,delta=0.003")]
    [InlineData("slicer:target=snr:20,asym=1")]
    public void RowReferencesShrinkRepeatedRowsWithoutChangingTheDecodedValues(string spec)
    {
        var values = TokenRows(seed: 3);
        byte[] plain = FeatureCodecs.Create(spec).Encode(values, TokenShape);
        byte[] rows = FeatureCodecs.Create(spec + ",rows=ref").Encode(values, TokenShape);
        Assert.True(rows.Length < 0.6 * plain.Length, $"{spec}: rows=ref {rows.Length} B, plain {plain.Length} B");
        // Same grid, same symbols: only their coding differs, so the distortion is the same.
        Assert.Equal(FeatureFrame.Decode(plain, out _), FeatureFrame.Decode(rows, out _));
    }

    [Fact]
    public void TheRowLayoutIsMarkedInThePayload()
    {
        var values = TokenRows(seed: 4);
        byte[] ifc = FeatureCodecs.Create("rans-ifc:bits=6,rows=ref").Encode(values, TokenShape);
        Assert.Equal(RansIfcLayout.Rows, (RansIfcLayout)ifc[PayloadOffset(2, 8)]);
        byte[] slicer = FeatureCodecs.Create("slicer:keep=1,asym=1,blocks=8,delta=0.01,rows=ref").Encode(values, TokenShape);
        Assert.Equal(3, slicer[PayloadOffset(2, SlicerCodec.ParameterLength)]); // PositionLayout.AllRows
    }

    [Theory]
    [InlineData("rans-ifc:bits=6", 1)]
    [InlineData("slicer:keep=1,asym=1,blocks=8,delta=0.003", 0)]
    public void WithoutRepeatsTheOptionCostsAtMostItsParameterByte(string spec, int parameterByte)
    {
        var values = SyntheticTensors.Gaussian(TokenShape.ElementCount, seed: 5);
        int plain = FeatureCodecs.Create(spec).Encode(values, TokenShape).Length;
        int rows = FeatureCodecs.Create(spec + ",rows=ref").Encode(values, TokenShape).Length;
        Assert.InRange(rows, 1, plain + parameterByte);
    }

    [Fact]
    public void ReferencesReachBackTheWholeWindowAndRoundTripExactly()
    {
        // 1100 rows of 4: rows from 1000 on copy the row 1000 before them (1000 <= the 1024-row window for this size).
        var shape = new TensorShape(1100, 4);
        var values = SyntheticTensors.Gaussian(shape.ElementCount, seed: 6);
        for (int i = 4000; i < values.Length; i++) values[i] = values[i - 4000];
        byte[] plain = FeatureCodecs.Create("rans-ifc:bits=8").Encode(values, shape);
        byte[] rows = FeatureCodecs.Create("rans-ifc:bits=8,rows=ref").Encode(values, shape);
        Assert.Equal(RansIfcLayout.Rows, (RansIfcLayout)rows[PayloadOffset(2, 8)]);
        Assert.True(rows.Length < 0.95 * plain.Length, $"rows=ref {rows.Length} B, plain {plain.Length} B");
        Assert.Equal(FeatureFrame.Decode(plain, out _), FeatureFrame.Decode(rows, out _));
    }

    [Fact]
    public void OldParameterBytesAreUnchangedAndTheFlagRoundTrips()
    {
        Assert.Equal(7, FeatureCodecs.Create("rans-ifc:bits=8").ParameterBytes.Length);
        Assert.Equal(0, FeatureCodecs.Create("slicer:keep=1,asym=1,blocks=8,delta=0.001").ParameterBytes[0] & 4);
        foreach (string spec in new[] { "rans-ifc:bits=5,levels=24,clip=3,rows=ref", "slicer:target=snr:20,asym=1,rows=ref", "slicer:count=9,asym=0.5,blocks=2,delta=0.01,levels=pow2,rows=ref" })
        {
            var codec = FeatureCodecs.Create(spec);
            var again = FeatureCodecs.FromParameters(codec.Id, codec.ParameterBytes);
            Assert.Equal(spec, again.Spec);
        }
    }

    [Fact]
    public void TheRowLayoutIsRejectedWithoutTheFlag()
    {
        var shape = new TensorShape(8, 8);
        byte[] frame = FeatureCodecs.Create("rans-ifc:bits=4").Encode(SyntheticTensors.Gaussian(64, seed: 7), shape);
        frame[PayloadOffset(2, 7)] = (byte)RansIfcLayout.Rows;
        FrameValidationTests.Reseal(frame);
        var e = Assert.Throws<FrameFormatException>(() => FeatureFrame.Decode(frame, out _));
        Assert.Equal(FrameError.CorruptPayload, e.Error);
    }

    [Fact]
    public void FixedColumnsAndRowReferencesDoNotMix() =>
        Assert.Throws<ArgumentException>(() => FeatureCodecs.Create("rans-ifc:bits=4,ncols=8,rows=ref"));
}
