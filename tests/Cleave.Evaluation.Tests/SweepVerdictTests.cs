using Cleave.Evaluation.Classification;
using Cleave.Evaluation.Reports;

namespace Cleave.Evaluation.Tests;

public sealed class SweepVerdictTests
{
    private static OperatingPoint Split(string split, string codec, double bytes, double top1, long macs, double fp32 = 100_000) =>
        new() { Kind = "split", Split = split, Codec = codec, BytesMean = bytes, Top1 = top1, HeadMacs = macs, Float32Bytes = fp32 };

    private static OperatingPoint Jpeg(int q, double bytes, double top1) =>
        new() { Kind = "jpeg", Codec = $"jpeg:q={q}", BytesMean = bytes, Top1 = top1 };

    private static SweepResult Result(params OperatingPoint[] points) =>
        new() { Model = "m", Images = 1000, FullTop1 = 0.866, TotalMacs = 300, Points = points };

    [Fact]
    public void The_cheapest_codec_within_one_point_is_judged_against_float32_and_jpeg_at_equal_accuracy()
    {
        var verdict = SweepVerdict.Compute(Result(
            Split("m/a", "raw", 100_400, 0.866, 100), Split("m/a", "q4", 8000, 0.865, 100), Split("m/a", "q3", 4000, 0.84, 100),
            Split("m/b", "q4", 6000, 0.857, 200, fp32: 200_000),
            Jpeg(75, 9600, 0.82), Jpeg(95, 23000, 0.86), Jpeg(98, 30000, 0.87)));
        Assert.Equal("q4", verdict.BestSplit!.Codec);
        Assert.Equal("m/b", verdict.BestSplit.Split);
        Assert.True(verdict.MeetsCompression); // 200000 / 6000 = 33x
        Assert.True(verdict.BeatsOffload["jpeg"]); // cheapest JPEG at >= 85.7% is q=95 at 23 KB
        Assert.Contains(verdict.Sentences, s => s.StartsWith("WINS against JPEG") && s.Contains("jpeg:q=95"));
        Assert.Equal("m/a", verdict.BestLightDevice!.Split); // 100/300 MACs on the device
        Assert.Equal("jpeg:q=95", verdict.OffloadWithinTolerance["jpeg"]!.Codec);
    }

    [Fact]
    public void Losing_to_jpeg_and_missing_the_target_are_said_plainly()
    {
        var verdict = SweepVerdict.Compute(Result(Split("m/a", "q4", 12000, 0.866, 100), Jpeg(90, 10000, 0.87)));
        Assert.False(verdict.MeetsCompression);
        Assert.False(verdict.BeatsOffload["jpeg"]);
        Assert.Contains(verdict.Sentences, s => s.StartsWith("NOT MET: 8.3x"));
        Assert.Contains(verdict.Sentences, s => s.StartsWith("LOSES against JPEG"));
    }

    [Fact]
    public void No_point_within_tolerance_is_reported()
    {
        var verdict = SweepVerdict.Compute(Result(Split("m/a", "raw", 100_400, 0.866, 100), Split("m/a", "q2", 3000, 0.80, 100)));
        Assert.Null(verdict.BestSplit);
        Assert.Contains(verdict.Sentences, s => s.StartsWith("No Cleave codec at any measured split"));
    }
}
