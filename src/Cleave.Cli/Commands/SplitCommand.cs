using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Models.Onnx;
using Cleave.Models.Profiling;
using Cleave.Models.Splitting;

namespace Cleave.Cli.Commands;

public sealed class SplitCommand : ICommand
{
    public string Name => "split";
    public string Summary => "cut a model into head.onnx and tail.onnx at given tensors, with a split.json manifest";
    public string Usage =>
        "usage: cleave split <model.onnx> --at T[,T2...] -o DIR [--verify [--input x.npy | --input name=x.npy,...]] [--json] [options]\n" +
        "       cleave split <model.onnx> --plan plan.json -o DIR   (one folder per cut the plan hosts, for serve/client --plan)\n" +
        "  --at T,T2          the tensor(s) to cut at (see 'cleave inspect' for candidates; --split is the same option)\n" +
        "  --plan plan.json   write one split folder per cut the plan hosts (from `cleave plan -o plan.json`) under -o DIR\n" +
        "  -o, --output DIR   where head.onnx, tail.onnx and split.json are written\n" +
        "  --verify           run the full model and head-then-tail on the same input; fail unless outputs agree within --tolerance\n" +
        "  --input x.npy      input for --verify (default: random input of the right shape); name=file pairs for several inputs\n" +
        "  --tolerance R      relative tolerance for --verify (default 1e-4; error relative to each output's largest magnitude)\n" +
        "  --json             print the result as JSON\n" +
        SplitOptionParsing.Help;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, [.. SplitOptionParsing.ValueOptions, "at", "output", "input", "tolerance", "plan"], ["verify", "json"]);
        string path = cl.PositionalAt(0, "model path");
        if (cl.Get("plan") is string planPath) return PlanVerbs.SplitForPlan(path, planPath, cl.Require("output"), cl.Has("json"));
        var cut = cl.Require("at").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (cut.Length == 0) throw new UsageException("--at needs at least one tensor name");
        string output = cl.Require("output");
        double tolerance = cl.GetDouble("tolerance", SplitVerifier.DefaultTolerance);
        var options = SplitOptionParsing.Parse(cl);
        var inv = CultureInfo.InvariantCulture;

        var model = OnnxModel.Load(path);
        var analysis = new SplitAnalysis(model, options);
        SplitModels split;
        try { split = ModelSplitter.Split(analysis, cut, Path.GetFileName(path)); }
        catch (InvalidSplitException e)
        {
            Console.Error.WriteLine($"cleave split: cannot cut at {string.Join(",", cut)}: {e.Reason}");
            if (e.Suggestions.Count > 0) Console.Error.WriteLine($"  nearest valid split points: {string.Join("   ", e.Suggestions.Select(s => $"--at {s}"))}");
            return 1;
        }
        var written = split.Save(output);
        var m = split.Manifest;

        SplitVerification? verification = null;
        if (cl.Has("verify"))
        {
            var inputs = DummyInputs.Create(model.Graph, analysis.Symbols);
            if (cl.Get("input") is string given) LoadInputs(given, model, inputs);
            verification = SplitVerifier.Verify(model, split, inputs, tolerance, options.IntraOpThreads);
        }

        if (cl.Has("json"))
        {
            var result = new
            {
                written,
                manifest_hash = m.ComputeHash(),
                manifest = m,
                verify = verification is null ? null : new
                {
                    passed = verification.Passed,
                    max_abs_error = verification.MaxAbsoluteError,
                    max_rel_error = verification.MaxRelativeError,
                    tolerance = verification.Tolerance,
                },
            };
            Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(result, SplitManifest.JsonOptions));
        }
        else
        {
            foreach (var t in m.Cut) Console.WriteLine($"cut       {t.Name} {t.Dtype}[{string.Join(",", t.Shape)}]{(t.Role == "auxiliary" ? " (auxiliary, shape-only)" : "")}");
            if (m.SideInputs.Count > 0) Console.WriteLine($"side      {string.Join(", ", m.SideInputs)} (the tail reads them too)");
            if (m.HeadStateOutputs.Count > 0) Console.WriteLine($"head state {string.Join(", ", m.HeadStateOutputs.Select(t => t.Name))} (graph outputs the head makes)");
            if (m.TailStateInputs.Count > 0) Console.WriteLine($"tail state {string.Join(", ", m.TailStateInputs)} (graph inputs only the tail reads)");
            Console.WriteLine($"head      {written[0]}  ({split.Head.Proto.Graph.Node.Count} nodes, {split.Head.Proto.Graph.Initializer.Count} initializers)");
            Console.WriteLine($"tail      {written[1]}  ({split.Tail.Proto.Graph.Node.Count} nodes, {split.Tail.Proto.Graph.Initializer.Count} initializers)");
            Console.WriteLine($"manifest  {written[2]}  (hash {m.ComputeHash()[..16]}...)");
            if (verification is not null)
                Console.WriteLine($"verify    {(verification.Passed ? "passed" : "FAILED")} on {(cl.Get("input") is string f ? f : "a random input")}: max abs error {verification.MaxAbsoluteError.ToString("G3", inv)}, " +
                                  $"max relative error {verification.MaxRelativeError.ToString("G3", inv)} (tolerance {tolerance.ToString("G3", inv)})");
        }
        if (verification is { Passed: false })
        {
            Console.Error.WriteLine($"cleave split: verification failed: head-then-tail differs from the full model by {verification.MaxRelativeError.ToString("G3", inv)} relative (tolerance {tolerance.ToString("G3", inv)})");
            return 1;
        }
        return 0;
    }

    private static void LoadInputs(string given, OnnxModel model, Dictionary<string, HostTensor> inputs)
    {
        foreach (string part in given.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            string name, file;
            if (eq > 0) { name = part[..eq]; file = part[(eq + 1)..]; }
            else { name = model.Graph.Inputs[0]; file = part; }
            if (!inputs.ContainsKey(name)) throw new UsageException($"--input names '{name}', which is not a graph input ({string.Join(", ", model.Graph.Inputs)})");
            inputs[name] = HostTensor.FromNpy(Cleave.Codecs.Npy.NpyFile.Read(file));
        }
    }
}
