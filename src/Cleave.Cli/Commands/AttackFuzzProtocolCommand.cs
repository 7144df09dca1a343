using Cleave.Cli.Infrastructure;
using Cleave.Runtime.Generation;
using Cleave.Runtime.Hostile;
using Cleave.Runtime.Serving;

namespace Cleave.Cli.Commands;

public sealed class AttackFuzzProtocolCommand : ICommand
{
    public string Name => "attack fuzz-protocol";
    public string Summary => "feed random and mutated protocol messages to the real service logic: only typed errors";
    public bool Hidden => true;
    public string Usage => """
        usage: cleave attack fuzz-protocol [SPLIT_DIR] [--lm MODEL_DIR --lm-split-layer K] [--cases N] [--seed S] [--json]
          Builds random and mutated Hello, InferRequest and Ping messages (with SPLIT_DIR: its tail really runs) and
          generation Open (with history), Step and Close messages (with --lm: a model folder from `cleave import
          --splits`), and hands each to what the server's handlers call with it. Fails (exit 1) on an exception other
          than a typed error, a case over 100 ms, or one allocating over 16 MiB.
          --lm MODEL_DIR --lm-split-layer K  also attack the generation service of that model, split after layer K
          --cases N   cases to run (default 1000000)
          --seed S    random seed (default 20261202)
          --json      machine-readable report
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["lm", "lm-split-layer", "cases", "seed"], ["json"]);
        string? split = cl.Positional.Count > 0 ? cl.PositionalAt(0, "split folder") : null;
        string? lm = cl.Get("lm");
        if (split is null && lm is null) throw new UsageException("give a split folder, --lm MODEL_DIR, or both");
        int layer = cl.GetInt("lm-split-layer", 0);
        if (lm is not null && layer < 1) throw new UsageException("--lm needs --lm-split-layer K (at least 1)");
        int cases = cl.GetInt("cases", 1_000_000);
        if (cases <= 0) throw new UsageException("--cases must be positive");
        bool json = cl.Has("json");

        // One worker and no batching delay: cases run one at a time, and each is timed alone.
        using var serving = split is null ? null : new ServingState(new SplitServerOptions { SplitDirectory = split, MaxDelay = TimeSpan.Zero, Threads = 1 });
        using var engine = lm is null ? null : new GenerationEngine(new GenerationOptions { ModelDirectory = lm, SplitLayer = layer, Workers = 1 });
        var progress = json ? null : new Progress<int>(done => Console.Error.Write($"\r{done:N0} / {cases:N0}"));
        var report = ProtocolFuzzer.Run(engine, serving, cases, cl.GetInt("seed", 20261202), progress);
        if (!json) Console.Error.WriteLine();
        return FuzzReportOutput.Print(report, json);
    }
}
