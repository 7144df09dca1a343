using System.Globalization;
using System.Text.Json;
using Cleave.Cli.Infrastructure;
using Cleave.Models.Onnx;
using Cleave.Models.Splitting;

namespace Cleave.Cli.Commands;

public sealed class InspectCommand : ICommand
{
    public string Name => "inspect";
    public string Summary => "list a model's inputs, outputs, opsets, size and candidate split points";
    public string Usage =>
        "usage: cleave inspect <model.onnx> [--json] [--profile [--runs N]] [options]\n" +
        "  --json              print the report as JSON (split_points[].tensors, shape, bytes_fp32, head_macs, tail_macs, ...)\n" +
        "  --profile           also measure head and tail latency at every split point (median of --runs, default 5)\n" +
        SplitOptionParsing.Help;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, [.. SplitOptionParsing.ValueOptions, "runs"], ["json", "profile"]);
        string path = cl.PositionalAt(0, "model path");
        var options = SplitOptionParsing.Parse(cl);
        int runs = cl.GetInt("runs", 5);
        if (runs < 1) throw new UsageException("--runs must be at least 1");

        var model = OnnxModel.Load(path);
        var analysis = new SplitAnalysis(model, options);
        bool profile = cl.Has("profile");
        var report = ModelInspector.Inspect(analysis, Path.GetFileName(path), profile, runs,
            progress: profile ? message => Console.Error.WriteLine($"[inspect] {message}") : null);

        if (cl.Has("json"))
            Console.WriteLine(JsonSerializer.Serialize(report, SplitManifest.JsonOptions));
        else
            PrintTable(report);
        return 0;
    }

    private static void PrintTable(ModelReport r)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"model     {r.Model}  (sha256 {r.Sha256[..16]}..., ir {r.IrVersion}, producer '{r.Producer}', {r.NodeCount} nodes)");
        Console.WriteLine($"opsets    {string.Join(", ", r.Opsets.Select(o => $"{(o.Key.Length == 0 ? "ai.onnx" : o.Key)}:{o.Value}"))}");
        foreach (var i in r.Inputs) Console.WriteLine($"input     {i.Name,-24} {i.Dtype}[{string.Join(",", i.Shape)}]{(i.Role == "side" ? "  (side input: both halves read it)" : "")}");
        foreach (var o in r.Outputs) Console.WriteLine($"output    {o.Name,-24} {o.Dtype}[{string.Join(",", o.Shape)}]");
        if (r.SymbolValues.Count > 0)
            Console.WriteLine($"symbols   {string.Join(", ", r.SymbolValues.Select(s => $"{s.Key}={s.Value}"))} (per-sample sizes and MACs use these)");
        Console.WriteLine($"params    {r.Parameters.ToString("N0", inv)}   MACs {r.Macs.ToString("N0", inv)}{(r.FullMs is double ms ? $"   full model {ms.ToString("F2", inv)} ms" : "")}");
        Console.WriteLine();
        bool timed = r.SplitPoints.Any(p => p.HeadMs is not null);
        Console.WriteLine($"{r.SplitPoints.Count} candidate split points:");
        Console.WriteLine($"{"#",3}  {"kind",-6} {"tensors",-36} {"shape",-24} {"KB fp32",9} {"head params",11} {"head MACs",9} {"tail MACs",15}" + (timed ? $" {"head ms",8} {"tail ms",8}" : ""));
        int n = 0;
        foreach (var p in r.SplitPoints)
        {
            string tensors = string.Join(",", p.Tensors) + (p.AuxiliaryTensors.Count > 0 ? $" (+{p.AuxiliaryTensors.Count} aux)" : "");
            string shape = string.Join(" ", p.Shape.Select(s => "[" + string.Join(",", s) + "]"));
            string kb = p.BytesFp32 is long b ? (b / 1024.0).ToString("F1", inv) : "?";
            Console.WriteLine($"{++n,3}  {p.Kind,-6} {tensors,-36} {shape,-24} {kb,9} {p.HeadParamShare,11:P1} {p.HeadMacShare,9:P1} {p.TailMacs.ToString("N0", inv),15}"
                + (timed ? $" {p.HeadMs?.ToString("F2", inv),8} {p.TailMs?.ToString("F2", inv),8}" : ""));
        }
    }
}
