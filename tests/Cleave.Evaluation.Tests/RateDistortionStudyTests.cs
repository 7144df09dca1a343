using Cleave.Codecs;
using Cleave.Codecs.Npy;
using Cleave.Evaluation.Plotting;
using Cleave.Evaluation.Studies;
using SkiaSharp;

namespace Cleave.Evaluation.Tests;

public sealed class RateDistortionStudyTests
{
    [Fact]
    public void StudyRanksCodecSettingsAndWritesEveryReportFile()
    {
        string dir = Directory.CreateTempSubdirectory("cleave-rd-").FullName;
        try
        {
            for (int i = 0; i < 3; i++)
                NpyFile.WriteFloat32(Path.Combine(dir, $"t{i}.npy"), SyntheticTensors.ReluLike(4096, seed: i), new TensorShape(1, 16, 16, 16));
            var sets = new[] { TensorSet.FromFolder("relu", dir) };
            var families = CodecSweepSpec.Parse("q=quant:bits={2,4,8},entropy=rans;raw");
            var points = RateDistortionStudy.Run(sets, families);

            Assert.Equal(4, points.Count);
            var q = points.Where(p => p.Family == "q").OrderBy(p => p.BitsPerElement).ToList();
            Assert.True(q[0].SnrDb < q[1].SnrDb && q[1].SnrDb < q[2].SnrDb, "more bits must give a higher SNR");
            Assert.All(points, p => Assert.Equal(3, p.Tensors));
            var raw = points.Single(p => p.Family == "raw");
            Assert.True(double.IsPositiveInfinity(raw.SnrDb));
            Assert.InRange(raw.RatioVsFloat32, 0.99, 1.0);

            string report = Path.Combine(dir, "report");
            var files = RateDistortionReport.Write(points, report).Select(Path.GetFileName).ToList();
            Assert.Equal(["results.json", "results.csv", "table.md", "rd_snr_relu.png", "rd_mse_relu.png"], files);
            using var png = SKBitmap.Decode(Path.Combine(report, "rd_snr_relu.png"));
            Assert.Equal(1000, png.Width);
            Assert.Contains("| `raw` |", File.ReadAllText(Path.Combine(report, "table.md")));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void ChartDrawsSeriesInTheirColours()
    {
        var chart = new LineChart { Title = "t", XLabel = "x", YLabel = "y" };
        chart.Series.Add(new ChartSeries("a", [(1, 1), (2, 4), (3, 9)]));
        using var png = SKBitmap.Decode(chart.RenderPng());
        int blue = 0, dark = 0;
        for (int y = 0; y < png.Height; y++)
            for (int x = 0; x < png.Width; x++)
            {
                var c = png.GetPixel(x, y);
                if (c.Blue > 150 && c.Red < 80) blue++;
                if (c.Red < 110 && c.Green < 110 && c.Blue < 110) dark++;
            }
        Assert.True(blue > 50, "the series line and markers should be drawn");
        Assert.True(dark > 500, "axes (and labels where a font exists) should be drawn");
    }

    [Fact]
    public void ChartWithoutFinitePointsIsAnError()
    {
        var chart = new LineChart { LogY = true };
        chart.Series.Add(new ChartSeries("a", [(1, 0), (2, double.NaN)]));
        Assert.Throws<InvalidOperationException>(() => chart.RenderPng());
    }
}
