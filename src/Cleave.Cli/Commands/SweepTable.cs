using Cleave.Evaluation.Classification;

namespace Cleave.Cli.Commands;

/// <summary>The human-readable table of operating points that <c>eval</c> and <c>sweep</c> print.</summary>
internal static class SweepTable
{
    public static void Print(SweepResult result)
    {
        Console.WriteLine($"{result.Model}, {result.Images} images; unsplit top-1 {100 * result.FullTop1:F1}%, top-5 {100 * result.FullTop5:F1}%, {result.TotalMacs / 1e6:F1} MMAC");
        Console.WriteLine($"{"split",-26} {"codec / baseline",-40} {"top-1",6} {"top-5",6} {"agree",6} {"KL",7} {"bytes",8} {"p95",8} {"x fp32",6} {"MMAC",6} {"head",6} {"enc",6} {"dec",6} {"tail",6}");
        foreach (var p in result.Points)
            Console.WriteLine($"{(p.Split is null ? "(" + p.Kind + ")" : OperatingPoint.ShortSplitName(p.Split)),-26} {p.Codec,-40} {100 * p.Top1,6:F1} {100 * p.Top5,6:F1} " +
                $"{100 * p.Agreement,6:F1} {p.MeanKl,7:F4} {p.BytesMean,8:F0} {p.BytesP95,8:F0} {p.CompressionVsFloat32,6:F1} {p.HeadMacs / 1e6,6:F1} " +
                $"{p.HeadMs,6:F2} {p.EncodeMs,6:F2} {p.DecodeMs,6:F2} {p.TailMs,6:F2}");
        Console.WriteLine("(ms columns: mean per image for head, encode, decode, tail)");
    }
}
