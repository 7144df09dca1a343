using System.Globalization;
using System.Text;
using System.Text.Json;
using Cleave.Codecs.IO;
using Cleave.Evaluation.Plotting;

namespace Cleave.Evaluation.Studies;

/// <summary>Writes a study's results as JSON, CSV, a Markdown table and PNG plots (one pair per tensor set).</summary>
public static class RateDistortionReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <returns>The files written.</returns>
    public static List<string> Write(IReadOnlyList<RateDistortionPoint> points, string folder)
    {
        Directory.CreateDirectory(folder);
        var written = new List<string>();
        void Save(string name, byte[] bytes)
        {
            string path = Path.Combine(folder, name);
            AtomicFile.WriteAllBytes(path, bytes);
            written.Add(path);
        }

        Save("results.json", JsonSerializer.SerializeToUtf8Bytes(points.Select(ToJson), new JsonSerializerOptions { WriteIndented = true }));
        Save("results.csv", Encoding.UTF8.GetBytes(Csv(points)));
        Save("table.md", Encoding.UTF8.GetBytes(Markdown(points)));
        foreach (var set in points.Select(p => p.Set).Distinct())
        {
            var inSet = points.Where(p => p.Set == set).ToList();
            Save($"rd_snr_{Safe(set)}.png", Chart(inSet, $"{set}: bits per element vs SNR", "SNR (dB, over the set)", p => p.SnrDb, logY: false).RenderPng());
            Save($"rd_mse_{Safe(set)}.png", Chart(inSet, $"{set}: bits per element vs relative MSE", "relative MSE (log)", p => p.RelativeMse, logY: true).RenderPng());
        }
        return written;
    }

    private static LineChart Chart(List<RateDistortionPoint> points, string title, string yLabel, Func<RateDistortionPoint, double> y, bool logY)
    {
        var chart = new LineChart { Title = title, XLabel = "bits per element (frame bytes x 8 / elements, log)", YLabel = yLabel, LogX = true, LogY = logY };
        foreach (var family in points.GroupBy(p => p.Family))
            chart.Series.Add(new ChartSeries(family.Key, family.Select(p => (p.BitsPerElement, y(p))).ToList()));
        return chart;
    }

    private static object ToJson(RateDistortionPoint p) => new Dictionary<string, object?>
    {
        ["set"] = p.Set, ["family"] = p.Family, ["codec"] = p.Codec, ["tensors"] = p.Tensors, ["elements"] = p.Elements,
        ["bytes"] = p.Bytes, ["bits_per_element"] = p.BitsPerElement, ["ratio_vs_fp32"] = p.RatioVsFloat32,
        ["snr_db"] = Finite(p.SnrDb), ["min_snr_db"] = Finite(p.MinSnrDb), ["rel_mse"] = p.RelativeMse,
        ["encode_ms"] = p.EncodeMsMean, ["decode_ms"] = p.DecodeMsMean,
    };

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    private static string Csv(IReadOnlyList<RateDistortionPoint> points)
    {
        var sb = new StringBuilder("set,family,codec,tensors,elements,bytes,bits_per_element,ratio_vs_fp32,snr_db,min_snr_db,rel_mse,encode_ms,decode_ms\n");
        foreach (var p in points)
            sb.AppendLine(string.Join(",", Quote(p.Set), Quote(p.Family), Quote(p.Codec), p.Tensors.ToString(Inv), p.Elements.ToString(Inv),
                p.Bytes.ToString(Inv), p.BitsPerElement.ToString("G6", Inv), p.RatioVsFloat32.ToString("G6", Inv), p.SnrDb.ToString("G6", Inv),
                p.MinSnrDb.ToString("G6", Inv), p.RelativeMse.ToString("G6", Inv), p.EncodeMsMean.ToString("G4", Inv), p.DecodeMsMean.ToString("G4", Inv)));
        return sb.ToString();
    }

    private static string Quote(string s) => "\"" + s.Replace("\"", "\"\"") + "\"";

    public static string Markdown(IReadOnlyList<RateDistortionPoint> points)
    {
        var sb = new StringBuilder();
        foreach (var set in points.GroupBy(p => p.Set))
        {
            var first = set.First();
            sb.AppendLine($"**{set.Key}** ({first.Tensors} tensors, {first.Elements / Math.Max(1, first.Tensors):N0} elements each)").AppendLine();
            sb.AppendLine("| codec | bits/element | ratio vs fp32 | SNR dB | min SNR dB | rel. MSE | encode ms | decode ms |");
            sb.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var p in set)
                sb.AppendLine(string.Create(Inv, $"| `{p.Codec}` | {p.BitsPerElement:F3} | {p.RatioVsFloat32:F1} | {Db(p.SnrDb)} | {Db(p.MinSnrDb)} | {p.RelativeMse:E2} | {p.EncodeMsMean:F2} | {p.DecodeMsMean:F2} |"));
            sb.AppendLine();
        }
        return sb.ToString();
    }

    private static string Db(double v) => double.IsPositiveInfinity(v) ? "exact" : v.ToString("F1", Inv);

    private static string Safe(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_'));
}
