using Cleave.Cli.Infrastructure;
using Cleave.Evaluation.Studies;

namespace Cleave.Cli.Commands;

public sealed class CodecStudyCommand : ICommand
{
    public string Name => "codec study";
    public string Summary => "rate-distortion curves of codec families over folders of real .npy features";
    public string Usage => """
        usage: cleave codec study --sets "NAME=DIR[;NAME=DIR...]" --codecs "LABEL=SPEC{a,b};SPEC..." --report DIR [--json]
          --sets     tensor sets: each DIR's .npy files (e.g. from `cleave dump`) form one set, plotted separately
          --codecs   ';'-separated families; '{a,b,c}' expands into one setting per value, e.g.
                     "quant+rANS=quant:bits={3,4,5,6,8},entropy=rans;fp16"
          --report   folder for results.json, results.csv, table.md and rd_snr_*/rd_mse_* PNG plots
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["sets", "codecs", "report"], ["json"]);
        var sets = cl.Require("sets").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s =>
            {
                int eq = s.IndexOf('=');
                return eq > 0 ? TensorSet.FromFolder(s[..eq], s[(eq + 1)..]) : TensorSet.FromFolder(Path.GetFileName(Path.TrimEndingDirectorySeparator(s)), s);
            }).ToList();
        var families = CodecSweepSpec.Parse(cl.Require("codecs"));
        string report = cl.Require("report");

        int total = sets.Count * families.Sum(f => f.Specs.Count), done = 0;
        List<RateDistortionPoint> points;
        using (var progress = new Progress("codec study", total))
            points = RateDistortionStudy.Run(sets, families, what => progress.Report(done++, what));
        var files = RateDistortionReport.Write(points, report);

        if (cl.Has("json"))
            Console.Out.Write(File.ReadAllText(Path.Combine(report, "results.json")) + "\n");
        else
        {
            Console.Write(RateDistortionReport.Markdown(points));
            Console.WriteLine($"wrote {string.Join(", ", files.Select(Path.GetFileName))} to {report}");
        }
        return 0;
    }
}
