using Cleave.Cli.Infrastructure;
using Cleave.Codecs.Analysis.Fuzzing;

namespace Cleave.Cli.Commands;

public sealed class AttackFuzzFramesCommand : ICommand
{
    public string Name => "attack fuzz-frames";
    public string Summary => "decode mutated frames of every codec: only typed errors, bounded time and allocation per case";
    public bool Hidden => true;
    public string Usage => """
        usage: cleave attack fuzz-frames [--cases N] [--seed S] [--resilient] [--json]
          Mutates valid frames of every example codec (bit flips, truncation, splices, length, rank and shape fields,
          huge claimed shapes) and decodes each under 1 MiB output / 2 MiB allocation limits. Fails (exit 1) on any
          exception other than FrameFormatException, a case over 100 ms, or one allocating over the limit.
          --cases N   cases to run (default 1000000)
          --seed S    random seed (default 20261202)
          --resilient damaged resilient frames instead (docs/resilience.md): bit flips, bursts, hostile edits with
                      the group's or header copy's check recomputed; each decodes (concealing) or fails with the typed error
          --json      machine-readable report
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["cases", "seed"], ["json", "resilient"]);
        int cases = cl.GetInt("cases", 1_000_000);
        if (cases <= 0) throw new UsageException("--cases must be positive");
        bool json = cl.Has("json");
        var progress = json ? null : new Progress<int>(done => Console.Error.Write($"\r{done:N0} / {cases:N0}"));
        int seed = cl.GetInt("seed", 20261202);
        var report = cl.Has("resilient") ? ResilientFrameFuzzer.Run(cases, seed, progress) : FrameFuzzer.Run(cases, seed, progress);
        if (!json) Console.Error.WriteLine();
        return FuzzReportOutput.Print(report, json);
    }
}
