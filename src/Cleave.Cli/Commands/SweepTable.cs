using System.Globalization;
using Cleave.Evaluation.Classification;

namespace Cleave.Cli.Commands;

/// <summary>The human-readable table of operating points that <c>eval</c> and <c>sweep</c> print.</summary>
internal static class SweepTable
{
    public static void Print(SweepResult result)
    {
        Console.WriteLine($"{result.Model}, {result.Images} images; unsplit top-1 {100 * result.FullTop1:F1}%, top-5 {100 * result.FullTop5:F1}%, {result.TotalMacs / 1e6:F1} MMAC");
        // Names whole (a split pastes back into --split) and columns as wide as their longest cell.
        var splits = result.Points.Select(p => p.Split ?? "(" + p.Kind + ")").ToList();
        int splitWidth = splits.Append("split").Max(s => s.Length), codecWidth = result.Points.Select(p => p.Codec).Append("codec / baseline").Max(c => c.Length);
        Console.WriteLine($"{"split".PadRight(splitWidth)} {"codec / baseline".PadRight(codecWidth)} {"top-1",6} {"top-5",6} {"agree",6} {"KL",7} {"bytes",8} {"p95",8} {"x fp32",6} {"MMAC",6} {"head",6} {"enc",6} {"dec",6} {"tail",6}");
        for (int i = 0; i < result.Points.Count; i++)
        {
            var p = result.Points[i];
            Console.WriteLine($"{splits[i].PadRight(splitWidth)} {p.Codec.PadRight(codecWidth)} {100 * p.Top1,6:F1} {100 * p.Top5,6:F1} " +
                $"{100 * p.Agreement,6:F1} {p.MeanKl,7:F4} {p.BytesMean,8:F0} {p.BytesP95,8:F0} {p.CompressionVsFloat32,6:F1} {p.HeadMacs / 1e6,6:F1} " +
                $"{p.HeadMs,6:F2} {p.EncodeMs,6:F2} {p.DecodeMs,6:F2} {p.TailMs,6:F2}");
        }
        Console.WriteLine("(ms columns: mean per image for head, encode, decode, tail)");
        foreach (var p in result.Points)
            if (p.Exit is { } x)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"early exit at {p.Split} {p.Codec}: threshold {x.Threshold:0.####} ({(x.Calibrated ? "calibrated, from exit.json" : "given")}); " +
                    $"{x.Exited} of {x.Images} answered on the device ({100 * x.ExitRate:0.0}%); top-1 {100 * p.Top1:0.0}% overall, exited {x.ExitCorrect}/{x.Exited} right, " +
                    $"sent {x.SentCorrect}/{x.Sent} right ({100 * x.SentTop1:0.0}%); {p.BytesMean:N0} B per request (0 for an exit), {x.BytesSaved:N0} B saved; " +
                    $"tail work saved {x.TailMacsSaved / 1e6:N1} MMAC ({x.TailMsSaved:N1} ms measured); exit {x.ExitMs:0.00} ms per image"));
    }
}
