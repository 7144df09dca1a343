using Cleave.Cli.Infrastructure;
using Cleave.Evaluation.Classification;
using Cleave.Evaluation.Reports;

namespace Cleave.Cli.Commands;

public sealed class SweepCommand : ICommand
{
    public string Name => "sweep";
    public string Summary => "rate-accuracy grid (splits x codecs, plus baselines) over a dataset, with an HTML report, plots, JSON and CSV";
    public string Usage => "usage: cleave sweep --model M.onnx --data DIR --splits \"T[;T...]\" --codecs SPECS [--baselines B] [--report DIR] [--json]\n" +
        ClassificationDataOptions.Help + "\n" +
        "  --splits T;T        cut tensors (see `cleave inspect`); the float32 tensor (raw) is always measured at each\n" +
        "  --codecs SPECS      codec families, e.g. \"quant+rANS=quant:bits={3,4,5},entropy=rans;rans-ifc:bits={3,4}\"\n" +
        "  --baselines B       e.g. \"jpeg:q={50,75,90};webp:q={50,75,90};local\"\n" +
        "  --report DIR        write DIR/report.html (self-contained), results.json, results.csv and the PNG plots\n" +
        "  --from FILE         re-render a report (and the verdict) from an earlier results.json instead of measuring\n" +
        "Each image runs the unsplit model once and each head once; every codec at a split codes the same feature tensor.";

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, [.. ClassificationDataOptions.ValueOptions, "splits", "codecs", "baselines", "report", "from"], ["json"]);
        string? from = cl.Get("from");
        if (from is not null)
        {
            var earlier = SweepJson.Read(from, out string? recorded);
            return Present(cl, earlier, recorded ?? $"(results read from {from})");
        }
        SweepGrid grid;
        try { grid = SweepGrid.Parse(cl.Get("splits"), cl.Get("codecs"), cl.Get("baselines")); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var (images, spec) = ClassificationDataOptions.Load(cl);

        SweepResult result;
        using (var progress = new Progress("sweep", images.Count))
            result = ClassificationSweep.Run(cl.Require("model"), grid, images, spec, progress.Report);
        return Present(cl, result, "cleave sweep " + string.Join(' ', args.Select(Quote)));
    }

    private static int Present(CommandLine cl, SweepResult result, string command)
    {
        string? report = cl.Get("report");
        if (report is not null)
        {
            var files = SweepReport.Write(result, report, command);
            Console.Error.WriteLine($"wrote {files.Count} files to {report} (open {Path.Combine(report, "report.html")})");
        }

        if (cl.Has("json"))
            Json.Write(w => SweepJson.Write(w, result, SweepVerdict.Compute(result), command));
        else
        {
            SweepTable.Print(result);
            Console.WriteLine();
            var verdict = SweepVerdict.Compute(result);
            foreach (string s in verdict.Sentences) Console.WriteLine("- " + s);
            Console.WriteLine();
            foreach (string s in verdict.PerSplitSentences) Console.WriteLine("- " + s);
        }
        return 0;
    }

    /// <summary>An argument as a shell would need it to run the recorded command again.</summary>
    internal static string Quote(string a) =>
        a.Length > 0 && a.All(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or ':' or '=' or ',') ? a : "'" + a.Replace("'", "'\\''") + "'";
}
