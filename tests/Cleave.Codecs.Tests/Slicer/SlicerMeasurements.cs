using System.Text;
using Cleave.Codecs.Analysis;
using Xunit.Abstractions;

namespace Cleave.Codecs.Tests.Slicer;

/// <summary>
/// The rate-distortion numbers quoted in docs/codecs.md ("slicer"), printed as tables. Run:
/// dotnet test tests/Cleave.Codecs.Tests -c Release --filter SlicerMeasurements --logger "console;verbosity=detailed"
/// </summary>
public sealed class SlicerMeasurements(ITestOutputHelper output)
{
    internal static IEnumerable<(string Name, float[] Values)> Tensors()
    {
        const int n = 64 * 32 * 32;
        yield return ("gaussian", SyntheticTensors.Gaussian(n, seed: 21, std: 1.5));
        yield return ("relu", SyntheticTensors.ReluLike(n, seed: 22));
        // Residual-stream stand-in: Gaussian body plus 1% outliers at 8x the spread (what clipping helps with).
        var heavy = SyntheticTensors.Gaussian(n, seed: 23);
        var random = new Random(23);
        for (int i = 0; i < heavy.Length; i++) if (random.Next(100) == 0) heavy[i] *= 8;
        yield return ("outliers", heavy);
    }

    private static (int Bytes, double Snr) Measure(string spec, float[] values)
    {
        byte[] frame = FeatureCodecs.Create(spec).Encode(values, new TensorShape(values.Length));
        return (frame.Length, Distortion.Measure(values, FeatureFrame.Decode(frame, out _)).SnrDb);
    }

    [Fact]
    public void SlicerAgainstQuantizationAtEqualSnr()
    {
        var report = new StringBuilder();
        report.AppendLine("| tensor | quant bits | quant SNR dB | quant+rANS B | quant+zstd B | slicer target=snr B | slicer SNR dB | slicer / quant+rANS | float32 / slicer |");
        report.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var (name, values) in Tensors())
        foreach (int bits in new[] { 3, 4, 5, 6, 8 })
        {
            var rans = Measure($"quant:bits={bits},entropy=rans", values);
            var zstd = Measure($"quant:bits={bits},entropy=zstd", values);
            var slicer = Measure($"slicer:target=snr:{rans.Snr:F2}", values);
            report.AppendLine($"| {name} | {bits} | {rans.Snr:F2} | {rans.Bytes} | {zstd.Bytes} | {slicer.Bytes} | {slicer.Snr:F2} | {slicer.Bytes / (double)rans.Bytes:F3} | {4.0 * values.Length / slicer.Bytes:F1} |");
        }
        output.WriteLine(report.ToString());
    }

    [Fact]
    public void FreeLevelCountsAgainstPowerOfTwoBitwidths()
    {
        var report = new StringBuilder();
        report.AppendLine("| tensor | target dB | any levels B | pow2 levels B | pow2 / any |");
        report.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var (name, values) in Tensors())
        foreach (int snr in new[] { 15, 20, 30 })
        {
            var any = Measure($"slicer:target=snr:{snr}", values);
            var pow2 = Measure($"slicer:target=snr:{snr},levels=pow2", values);
            report.AppendLine($"| {name} | {snr} | {any.Bytes} | {pow2.Bytes} | {pow2.Bytes / (double)any.Bytes:F3} |");
        }
        output.WriteLine(report.ToString());
    }

    [Fact]
    public void TargetSearchAgainstTheBestFixedSetting()
    {
        var report = new StringBuilder();
        report.AppendLine("| tensor | target dB | target=snr B | achieved dB | best fixed B | its spec | auto / fixed |");
        report.AppendLine("| --- | ---: | ---: | ---: | ---: | --- | ---: |");
        var shape = new TensorShape(16, 16, 16);
        foreach (string kind in new[] { "gaussian", "relu" })
        foreach (int snr in new[] { 10, 20, 30 })
        {
            var values = kind == "relu" ? SyntheticTensors.ReluLike(shape.ElementCount, seed: snr) : SyntheticTensors.Gaussian(shape.ElementCount, seed: snr);
            byte[] frame = FeatureCodecs.Create($"slicer:target=snr:{snr}").Encode(values, shape);
            double achieved = Distortion.Measure(values, FeatureFrame.Decode(frame, out _)).SnrDb;
            var grid = SlicerTargetTests.BestFixedSetting(values, shape, snr);
            report.AppendLine($"| {kind} | {snr} | {frame.Length} | {achieved:F2} | {grid.Bytes} | `{grid.Spec}` | {frame.Length / (double)grid.Bytes:F3} |");
        }
        output.WriteLine(report.ToString());
    }
}
