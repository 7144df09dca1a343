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
        "  --profile           also measure head and tail latency at every split point\n" +
        "  --runs N            with --profile: runs per measurement, the median is kept (default 5)\n" +
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
        int ioWidth = r.Inputs.Select(i => i.Name.Length).Concat(r.Outputs.Select(o => o.Name.Length)).DefaultIfEmpty(0).Max();
        foreach (var i in r.Inputs) Console.WriteLine($"input     {i.Name.PadRight(ioWidth)}  {i.Dtype}[{string.Join(",", i.Shape)}]{(i.Role == "side" ? "  (side input: both halves read it)" : "")}");
        foreach (var o in r.Outputs) Console.WriteLine($"output    {o.Name.PadRight(ioWidth)}  {o.Dtype}[{string.Join(",", o.Shape)}]");
        if (r.SymbolValues.Count > 0)
            Console.WriteLine($"symbols   {string.Join(", ", r.SymbolValues.Select(s => $"{s.Key}={s.Value}"))} (per-sample sizes and MACs use these)");
        Console.WriteLine($"params    {r.Parameters.ToString("N0", inv)}   MACs {r.Macs.ToString("N0", inv)}{(r.FullMs is double ms ? $"   full model {ms.ToString("F2", inv)} ms" : "")}");
        Console.WriteLine();
        PrintSplitPoints(r.SplitPoints);
    }

    /// <summary>
    /// One row per split point, names in full (a row's tensors paste back into --split / --at as printed) and columns
    /// as wide as their longest cell. A `X_preact` point (the same tensor before its activation, same shape and cost)
    /// is folded into the row of X and marked; --json lists both.
    /// </summary>
    private static void PrintSplitPoints(IReadOnlyList<SplitPointReport> points)
    {
        var inv = CultureInfo.InvariantCulture;
        const string Preact = "_preact";
        var single = points.Where(p => p.Tensors.Count == 1).Select(p => p.Tensors[0]).ToHashSet(StringComparer.Ordinal);
        bool timed = points.Any(p => p.HeadMs is not null);
        var rows = new List<string[]>();
        int folded = 0;
        for (int n = 0; n < points.Count; n++)
        {
            var p = points[n];
            if (p.Tensors.Count == 1 && p.Tensors[0].EndsWith(Preact, StringComparison.Ordinal) && single.Contains(p.Tensors[0][..^Preact.Length]))
            {
                folded++;
                continue;
            }
            var also = new List<string>();
            if (p.Tensors.Count == 1 && single.Contains(p.Tensors[0] + Preact)) also.Add(Preact);
            if (p.AuxiliaryTensors.Count > 0) also.Add($"+{p.AuxiliaryTensors.Count} aux");
            rows.Add(
            [
                (n + 1).ToString(inv), p.Kind, string.Join(",", p.Tensors), string.Join(" ", p.Shape.Select(s => "[" + string.Join(",", s) + "]")),
                p.BytesFp32 is long b ? (b / 1024.0).ToString("F1", inv) : "?",
                (100 * p.HeadParamShare).ToString("F1", inv), (100 * p.HeadMacShare).ToString("F1", inv),
                (p.HeadMacs / 1e6).ToString("F1", inv), (p.TailMacs / 1e6).ToString("F1", inv),
                .. timed ? new[] { p.HeadMs?.ToString("F2", inv) ?? "", p.TailMs?.ToString("F2", inv) ?? "" } : [],
                string.Join(" ", also),
            ]);
        }
        string[] header = ["#", "kind", "split point (as --split takes it)", "shape", "KB fp32", "head params %", "head MACs %", "head MMAC", "tail MMAC",
            .. timed ? new[] { "head ms", "tail ms" } : [], "also"];
        // Text columns align left, numbers right.
        bool[] left = [.. header.Select(h => h is "kind" or "split point (as --split takes it)" or "shape" or "also")];
        Console.WriteLine($"{points.Count} candidate split points" + (folded > 0 ? $" ({folded} `{Preact}` twins folded: see the 'also' column)" : "") + ":");
        var widths = header.Select((h, c) => rows.Select(r => r[c].Length).Append(h.Length).Max()).ToArray();
        foreach (var row in rows.Prepend(header))
            Console.WriteLine(string.Join("  ", row.Select((cell, c) => left[c] ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))).TrimEnd());
        if (folded > 0)
            Console.WriteLine($"also {Preact}: the same tensor before its activation (T{Preact}) is a split point too, with the same shape and cost.");
    }
}
