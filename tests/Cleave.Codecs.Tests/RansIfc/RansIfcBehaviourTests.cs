using System.Buffers.Binary;
using Cleave.Codecs.Quantization;
using Cleave.Codecs.Tests.Frames;

namespace Cleave.Codecs.Tests.RansIfc;

public sealed class RansIfcBehaviourTests
{
    private static readonly TensorShape FeatureShape = new(1, 64, 56, 56);

    private static int FrameBytes(string spec, float[] values, TensorShape shape) => FeatureCodecs.Create(spec).Encode(values, shape).Length;

    /// <summary>Payload offset of a frame with this rank and a 7-byte rans-ifc parameter block.</summary>
    private static int PayloadOffset(int rank) => 8 + 4 * rank + 2 + 7 + 4;

    private static RansIfcLayout LayoutOf(byte[] frame, int rank) => (RansIfcLayout)frame[PayloadOffset(rank)];

    [Theory]
    [InlineData(0.5, 4)] [InlineData(0.7, 4)] [InlineData(0.9, 4)]
    [InlineData(0.5, 8)] [InlineData(0.7, 8)] [InlineData(0.9, 8)]
    public void SparseReluLikeIsSmallerThanDenseQuantAtTheSameDistortion(double zeros, int bits)
    {
        var values = SyntheticTensors.ReluLike(FeatureShape.ElementCount, seed: 9, zeroFraction: zeros);
        var ifcFrame = FeatureCodecs.Create($"rans-ifc:bits={bits}").Encode(values, FeatureShape);
        var ransFrame = FeatureCodecs.Create($"quant:bits={bits},entropy=rans").Encode(values, FeatureShape);
        Assert.True(ifcFrame.Length < ransFrame.Length, $"rans-ifc {ifcFrame.Length} B, quant+rans {ransFrame.Length} B");
        Assert.True(ifcFrame.Length < FrameBytes($"quant:bits={bits},entropy=zstd", values, FeatureShape));
        // Same grid, same symbols: the decoded tensors are identical, so the distortion is too.
        Assert.Equal(FeatureFrame.Decode(ransFrame, out _), FeatureFrame.Decode(ifcFrame, out _));
    }

    [Theory]
    [InlineData(0.3, 4, 0.96)] [InlineData(0.6, 8, 0.80)]
    public void DeadChannelsMakeTheSparseLayoutPayOff(double dead, int bits, double maxRatio)
    {
        var values = StructuredFeatures.DeadChannels(64, 56, 56, dead, seed: 4);
        var frame = FeatureCodecs.Create($"rans-ifc:bits={bits}").Encode(values, FeatureShape);
        Assert.Equal(RansIfcLayout.Csr, LayoutOf(frame, FeatureShape.Rank));
        var quantFrame = FeatureCodecs.Create($"quant:bits={bits},entropy=rans").Encode(values, FeatureShape);
        double ratio = (double)frame.Length / quantFrame.Length;
        Assert.True(ratio < maxRatio, $"rans-ifc / quant+rans = {ratio:F3}");
        Assert.Equal(FeatureFrame.Decode(quantFrame, out _), FeatureFrame.Decode(frame, out _)); // same distortion
    }

    [Fact]
    public void SpatiallyClusteredZerosMakeTheSparseLayoutPayOff()
    {
        var values = StructuredFeatures.SpatialBlobs(64, 56, 56, 0.8, seed: 4);
        double ratio = (double)FrameBytes("rans-ifc:bits=8", values, FeatureShape) / FrameBytes("quant:bits=8,entropy=rans", values, FeatureShape);
        Assert.True(ratio < 0.85, $"rans-ifc / quant+rans = {ratio:F3}");
    }

    [Fact]
    public void DenseTensorFallsBackToTheDenseLayoutAndLosesAlmostNothing()
    {
        var values = SyntheticTensors.Gaussian(FeatureShape.ElementCount, seed: 2);
        var frame = FeatureCodecs.Create("rans-ifc:bits=8").Encode(values, FeatureShape);
        Assert.Equal(RansIfcLayout.Dense, LayoutOf(frame, FeatureShape.Rank));
        Assert.True(frame.Length <= FrameBytes("quant:bits=8,entropy=rans", values, FeatureShape) + 4);
    }

    [Theory]
    [InlineData("relu", 0.5)] [InlineData("relu", 0.9)] [InlineData("dead", 0.3)] [InlineData("blobs", 0.5)] [InlineData("blobs", 0.8)]
    public void ChosenWidthIsWithinTwoPercentOfTheExhaustiveBest(string kind, double fraction)
    {
        var shape = new TensorShape(1, 32, 56, 56);
        var values = kind switch
        {
            "relu" => SyntheticTensors.ReluLike(shape.ElementCount, seed: 6, zeroFraction: fraction),
            "dead" => StructuredFeatures.DeadChannels(32, 56, 56, fraction, seed: 6),
            _ => StructuredFeatures.SpatialBlobs(32, 56, 56, fraction, seed: 6),
        };
        var analysis = ColumnWidthAnalysis.Run(new RansIfcCodec(8), values, shape);
        Assert.True(analysis.Chosen.Actual.Total <= 1.02 * analysis.Best.Actual.Total,
            $"chosen {analysis.ChosenLayout} N={analysis.ChosenColumns}: {analysis.Chosen.Actual.Total} B; best N={analysis.BestColumns}: {analysis.Best.Actual.Total} B");
        // The chosen frame's payload is what the analysis measured for the chosen layout.
        var frame = new RansIfcCodec(8).Encode(values, shape);
        Assert.Equal(frame.Length - PayloadOffset(shape.Rank) - 4, (int)analysis.Chosen.Actual.Total);
    }

    [Fact]
    public void CostModelPredictsIndependentSparsityWithinOnePercentAtEveryWidth()
    {
        var values = SyntheticTensors.ReluLike(100_000, seed: 8, zeroFraction: 0.7);
        var analysis = ColumnWidthAnalysis.Run(new RansIfcCodec(6), values, new TensorShape(100_000));
        Assert.All(analysis.Widths.Append(analysis.Dense), t => Assert.InRange(t.RelativeError, -0.01, 0.01));
        // Small positive values round to the zero symbol too, so the foreground is at most the non-zero values.
        Assert.InRange(analysis.Foreground, 10_000, values.Count(v => v != 0));
    }

    [Fact]
    public void AnalysisOverACallersWidthsStillReportsTheChosenWidth()
    {
        var values = StructuredFeatures.DeadChannels(16, 20, 20, 0.5, seed: 2);
        var shape = new TensorShape(16, 20, 20);
        var analysis = ColumnWidthAnalysis.Run(new RansIfcCodec(6), values, shape, [3, 5]);
        Assert.Equal(RansIfcLayout.Csr, analysis.ChosenLayout);
        Assert.True(analysis.ChosenColumns > 5, $"chose {analysis.ChosenColumns}"); // dead channels want wide rows
        Assert.Equal(analysis.ChosenColumns, analysis.Chosen.Columns);
        Assert.Equal([3, 5, analysis.ChosenColumns], analysis.Widths.Select(w => w.Columns));
    }

    [Fact]
    public void AllZeroTensorIsExactAndTiny()
    {
        var values = new float[64 * 56 * 56];
        var frame = FeatureCodecs.Create("rans-ifc:bits=8").Encode(values, FeatureShape);
        Assert.True(frame.Length < 80, $"{frame.Length} bytes");
        Assert.All(FeatureFrame.Decode(frame, out _), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ZerosStayExactAndNonFiniteValuesFollowTheQuantPolicy()
    {
        float[] values = [0f, 0f, 3f, float.NaN, 0f, float.PositiveInfinity, 1f, float.NegativeInfinity, 0f, 0.5f];
        var decoded = FeatureFrame.Decode(FeatureCodecs.Create("rans-ifc:bits=8,ncols=3").Encode(values, new TensorShape(10)), out _);
        var p = UniformQuantizer.Fit(values, 8);
        Assert.Equal(0f, decoded[0]);
        Assert.Equal(0f, decoded[3]); // NaN is quantized as 0
        Assert.InRange(decoded[5], 3f - p.Scale, 3f + p.Scale);
        Assert.Equal(0f, decoded[7]); // -Inf saturates to the bottom of the finite range, here 0
    }

    [Fact]
    public void ClippingKeepsInRangeValuesWithinHalfAStepAndShrinksHeavyTails()
    {
        var values = SyntheticTensors.ReluLike(50_000, seed: 3, zeroFraction: 0.5);
        var clipped = new RansIfcCodec(4, clip: 3);
        var grid = clipped.FitParameters(values);
        double hi = (15 - grid.ZeroPoint) * (double)grid.Scale;
        Assert.True(hi < values.Max(), "the clip should cut the log-normal tail");
        var decoded = FeatureFrame.Decode(clipped.Encode(values, new TensorShape(values.Length)), out _);
        for (int i = 0; i < values.Length; i++)
            if (values[i] <= hi) Assert.True(Math.Abs(decoded[i] - values[i]) <= grid.Scale * 0.5001 + 1e-6, $"element {i}");
            else Assert.Equal(hi, decoded[i], 1e-4);
        // A finer grid over the bulk of the values: a smaller error on the in-range values than without clipping.
        var full = FeatureFrame.Decode(new RansIfcCodec(4).Encode(values, new TensorShape(values.Length)), out _);
        double Mse(float[] d) => values.Select((v, i) => v <= hi ? (v - d[i]) * (double)(v - d[i]) : 0).Sum();
        Assert.True(Mse(decoded) < Mse(full) / 4);
    }

    [Fact]
    public void A_fixed_range_keeps_a_step_of_one_however_small_the_values_are()
    {
        // A learned code trained for rounding to integers: with range=3 and 7 levels the grid is the integers -3..3
        // whatever the frame holds, so a code that shrinks costs fewer bits instead of getting a finer grid.
        var codec = (RansIfcCodec)FeatureCodecs.Create("rans-ifc:bits=3,levels=7,range=3,ctx=2d");
        var wide = SyntheticTensors.Gaussian(4096, seed: 5).Select(v => 2.5f * v).ToArray();
        var narrow = wide.Select(v => 0.2f * v).ToArray();
        var shape = new TensorShape(1, 4, 32, 32);
        foreach (var values in new[] { wide, narrow })
        {
            var grid = codec.FitParameters(values);
            Assert.Equal(1f, grid.Scale);
            Assert.Equal(3, grid.ZeroPoint);
            var decoded = FeatureFrame.Decode(codec.Encode(values, shape), out var decodedShape);
            Assert.Equal(shape, decodedShape);
            for (int i = 0; i < values.Length; i++)
                Assert.Equal(Math.Clamp(MathF.Round(values[i], MidpointRounding.AwayFromZero), -3f, 3f), decoded[i]);
        }
        // Without range= the grid follows the values: the narrow tensor would get a finer grid (its own span / 6).
        Assert.True(new RansIfcCodec(3, levels: 7).FitParameters(narrow).Scale < 0.75f);
        int narrowBytes = codec.Encode(narrow, shape).Length, wideBytes = codec.Encode(wide, shape).Length;
        Assert.True(narrowBytes < wideBytes * 0.75, $"narrow {narrowBytes} B, wide {wideBytes} B");
    }

    [Fact]
    public void A_fixed_range_travels_in_the_frame_and_its_spec_round_trips()
    {
        var codec = FeatureCodecs.Create("rans-ifc:bits=4,levels=9,range=4.0");
        Assert.Equal("rans-ifc:bits=4,levels=9,range=4", codec.Spec);
        var frame = codec.Encode([0.2f, -7f, 3.6f, 9f], new TensorShape(4));
        Assert.Equal([0f, -4f, 4f, 4f], FeatureFrame.Decode(frame, out _));
        Assert.Equal(codec.Spec, FeatureFrame.ReadCodec(frame, FeatureFrame.ReadHeader(frame)).Spec);
    }

    [Fact]
    public void NonPowerOfTwoLevelsUseExactlyThatManySymbols()
    {
        var values = SyntheticTensors.Gaussian(20_000, seed: 1);
        var codec = new RansIfcCodec(5, levels: 24);
        var grid = codec.FitParameters(values);
        var decoded = FeatureFrame.Decode(codec.Encode(values, new TensorShape(values.Length)), out _);
        var levels = decoded.Select(d => (int)Math.Round(d / grid.Scale + grid.ZeroPoint)).Distinct().ToArray();
        Assert.Equal(24, levels.Length);
        Assert.Equal(0, levels.Min());
        Assert.Equal(23, levels.Max());
    }

    [Theory]
    [InlineData("rans-ifc", "rans-ifc:bits=8")]
    [InlineData("rans-ifc:bits=4,ncols=auto", "rans-ifc:bits=4")]
    [InlineData("rans-ifc:levels=24", "rans-ifc:bits=5,levels=24")]
    [InlineData("rans-ifc:bits=8,levels=256,ncols=56,clip=3.0", "rans-ifc:bits=8,ncols=56,clip=3")]
    [InlineData("rans-ifc:bits=6,clip=2.345", "rans-ifc:bits=6,clip=2.35")]
    public void SpecsHaveOneCanonicalForm(string spec, string canonical)
    {
        var codec = FeatureCodecs.Create(spec);
        Assert.Equal(canonical, codec.Spec);
        Assert.Equal(CodecId.RansIfc, codec.Id);
    }

    [Theory]
    [InlineData("rans-ifc:bits=0")]
    [InlineData("rans-ifc:bits=13")]
    [InlineData("rans-ifc:bits=4,levels=17")]
    [InlineData("rans-ifc:levels=1")]
    [InlineData("rans-ifc:ncols=0")]
    [InlineData("rans-ifc:ncols=4096")]
    [InlineData("rans-ifc:ncols=wide")]
    [InlineData("rans-ifc:clip=0")]
    [InlineData("rans-ifc:clip=-1")]
    [InlineData("rans-ifc:clip=nan")]
    [InlineData("rans-ifc:range=0")]
    [InlineData("rans-ifc:range=nan")]
    [InlineData("rans-ifc:clip=3,range=3")]
    [InlineData("rans-ifc:bits=8,entropy=rans")]
    public void BadSpecsAreRefused(string spec) => Assert.Throws<ArgumentException>(() => FeatureCodecs.Create(spec));

    [Theory]
    [InlineData(0, 0)]    // bits 0
    [InlineData(0, 13)]   // bits 13
    [InlineData(1, 1)]    // levels 1
    [InlineData(1, 0xFF)] // levels 255 + 256·(high byte) > 2^8
    [InlineData(3, 0xFF)] // ncols 0x..FF beyond 4095 with the high byte
    public void HostileParametersAreRefused(int offset, byte value)
    {
        var frame = FeatureCodecs.Create("rans-ifc:bits=8").Encode([1f, 0f, 2f], new TensorShape(3));
        int parameters = 8 + 4 + 2;
        frame[parameters + offset] = value;
        if (offset is 1 or 3) frame[parameters + offset + 1] = 0xFF;
        FrameValidationTests.Reseal(frame);
        Assert.Equal(FrameError.BadParameters, Assert.Throws<FrameFormatException>(() => FeatureFrame.Decode(frame, out _)).Error);
    }

    [Theory]
    [InlineData(8, 0)]   // range flag set, R = 0
    [InlineData(5, 100)] // a clip factor beside a fixed range
    public void HostileFixedRangeParametersAreRefused(int offset, byte value)
    {
        var frame = FeatureCodecs.Create("rans-ifc:bits=3,levels=7,range=3").Encode([1f, 0f, 2f], new TensorShape(3));
        int parameters = 8 + 4 + 2;
        frame[parameters + offset] = value;
        frame[parameters + offset + 1] = 0;
        FrameValidationTests.Reseal(frame);
        Assert.Equal(FrameError.BadParameters, Assert.Throws<FrameFormatException>(() => FeatureFrame.Decode(frame, out _)).Error);
    }

    [Fact]
    public void CsrStreamsThatDisagreeWithTheHeaderAreRefused()
    {
        var values = SyntheticTensors.ReluLike(1000, seed: 1, zeroFraction: 0.8);
        var valid = FeatureCodecs.Create("rans-ifc:bits=8,ncols=10").Encode(values, new TensorShape(1000));
        int payload = PayloadOffset(1);
        Assert.Equal(RansIfcLayout.Csr, (RansIfcLayout)valid[payload]);

        var frame = (byte[])valid.Clone(); // value count one too high: the row counts no longer add up
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(payload + 13), BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(payload + 13)) + 1);
        FrameValidationTests.Reseal(frame);
        Assert.Throws<FrameFormatException>(() => FeatureFrame.Decode(frame, out _));

        frame = (byte[])valid.Clone(); // a wider row than the streams were made for
        BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(payload + 9), 9);
        FrameValidationTests.Reseal(frame);
        Assert.Throws<FrameFormatException>(() => FeatureFrame.Decode(frame, out _));

        frame = (byte[])valid.Clone(); // background symbol outside the 256 levels
        BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(payload + 11), 256);
        FrameValidationTests.Reseal(frame);
        Assert.Equal(FrameError.CorruptPayload, Assert.Throws<FrameFormatException>(() => FeatureFrame.Decode(frame, out _)).Error);

        frame = (byte[])valid.Clone(); // unknown layout
        frame[payload] = 2;
        FrameValidationTests.Reseal(frame);
        Assert.Equal(FrameError.CorruptPayload, Assert.Throws<FrameFormatException>(() => FeatureFrame.Decode(frame, out _)).Error);
    }

    [Fact]
    public void EntropyBoundIsTheOrderZeroEntropyOfTheQuantSymbols()
    {
        var values = SyntheticTensors.ReluLike(10_000, seed: 5);
        var shape = new TensorShape(values.Length);
        double? ifc = FeatureCodecs.Create("rans-ifc:bits=8").EntropyBoundBytes(values, shape);
        double? quant = FeatureCodecs.Create("quant:bits=8,entropy=rans").EntropyBoundBytes(values, shape);
        Assert.NotNull(ifc);
        Assert.Equal(quant!.Value, ifc!.Value, 6);
    }
}
