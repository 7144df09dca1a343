using Cleave.Evaluation.Classification;

namespace Cleave.Evaluation.Tests;

public sealed class ParetoFrontTests
{
    private static OperatingPoint Point(string codec, double bytes, double top1, long macs = 0, string kind = "split") =>
        new() { Kind = kind, Codec = codec, Split = kind == "split" ? "m/a/b" : null, BytesMean = bytes, Top1 = top1, HeadMacs = macs };

    [Fact]
    public void Dominated_points_and_duplicates_are_dropped()
    {
        var front = ParetoFront.Indices([[1, 5], [2, 4], [2, 6], [3, 3], [1, 5], [0.5, 9]]);
        Assert.Equal([0, 1, 3, 5], front);
    }

    [Fact]
    public void Accuracy_vs_bytes_ignores_points_that_send_nothing_and_orders_by_bytes()
    {
        var points = new[]
        {
            Point("a", 8000, 0.86), Point("b", 5000, 0.84), Point("c", 9000, 0.85), Point("d", 20000, 0.87, kind: "jpeg"),
            Point("local", 0, 0.87, macs: 300, kind: "local"),
        };
        Assert.Equal(["b", "a", "d"], ParetoFront.AccuracyVsBytes(points).Select(p => p.Codec));
    }

    [Fact]
    public void The_three_objective_front_keeps_low_compute_points_that_send_more()
    {
        var points = new[]
        {
            Point("late", 300, 0.86, macs: 290), Point("early", 8000, 0.86, macs: 110), Point("worse-early", 9000, 0.86, macs: 110),
            Point("jpeg", 20000, 0.85, kind: "jpeg"), Point("local", 0, 0.87, macs: 300, kind: "local"),
        };
        Assert.Equal(["local", "late", "early", "jpeg"], ParetoFront.ComputeBytesAccuracy(points).Select(p => p.Codec));
    }
}
