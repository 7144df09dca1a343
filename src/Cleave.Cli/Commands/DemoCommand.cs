using Cleave.Cli.Demo;
using Cleave.Cli.Infrastructure;
using Cleave.Models;
using Cleave.Runtime.Links;

namespace Cleave.Cli.Commands;

public sealed class DemoCommand : ICommand
{
    public string Name => "demo";
    public string Summary => "split MobileNetV2, serve the tail on loopback, send the sample images over an emulated LTE link";
    public string Usage => """
        usage: cleave demo [--assets DIR] [--out DIR] [--images N] [--clients N] [--link PRESET]
                           [--split TENSOR] [--codec SPEC] [--jpeg-q Q] [--max-batch N] [--json]
          Imports MobileNetV2 from the shared assets, cuts it mid-network, starts a server in-process on 127.0.0.1 and
          runs several clients over an emulated link: once sending compressed split features, once sending JPEG files
          for the whole model on the server. Ends with accuracy vs the unsplit model, bytes per image vs float32 and vs
          JPEG, the latency breakdown, and an HTML report. When the split folder (--out DIR/split-CUT) holds an early exit
          (`cleave train exit --split` that folder), images the exit answers are not sent; the table and --json count
          exits, bytes not sent and server time saved.
          --assets DIR   the shared assets (default: $CLEAVE_ASSETS, then ../shared/assets)
          --out DIR      imported model, split and report.html (default artifacts/demo); a second run reuses them
          --images N     sample images, evenly spaced over the 1000 classes (default 200)
          --clients N    concurrent clients, each its own stream (default 4)
          --link PRESET  lora, ble, 3g, lte, 5g, wifi or none (default lte)
          --max-batch N  most requests per tail run on the server (default 8)
          --split, --codec, --jpeg-q  default MobilenetV2/expanded_conv_5/add, rans-ifc:bits=3,levels=6,clip=3,ctx=2d, 90
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["assets", "out", "images", "clients", "link", "split", "codec", "jpeg-q", "max-batch"], ["json"]);
        string assets;
        try { assets = AssetLocator.Resolve(cl.Get("assets")); }
        catch (DirectoryNotFoundException e)
        {
            Console.Error.WriteLine($"cleave demo: {e.Message}");
            Console.Error.WriteLine($"  looked for: --assets, then ${AssetLocator.EnvironmentVariable}, then ../shared/assets beside the repository (from {Directory.GetCurrentDirectory()}), then {Cleave.Models.Assets.AssetCache.DefaultFolder}");
            Console.Error.WriteLine("  fix: cleave assets fetch --only demo   (downloads the demo's model and images, about 110 MB)");
            Console.Error.WriteLine("   or: cleave demo --assets /path/to/assets   or   export CLEAVE_ASSETS=/path/to/assets");
            return 1;
        }
        var defaults = new DemoOptions { AssetsRoot = assets, WorkDirectory = "" };
        var options = defaults with
        {
            WorkDirectory = Path.GetFullPath(cl.Get("out") ?? Path.Combine("artifacts", "demo")),
            Images = Positive(cl.GetInt("images", defaults.Images), "images"),
            Clients = Positive(cl.GetInt("clients", defaults.Clients), "clients"),
            Link = cl.Get("link") is { } link ? LinkProfile.Preset(link) : defaults.Link,
            Cut = cl.Get("split") ?? defaults.Cut,
            Codec = cl.Get("codec") ?? defaults.Codec,
            JpegQuality = cl.GetInt("jpeg-q", defaults.JpegQuality),
            MaxBatch = Positive(cl.GetInt("max-batch", defaults.MaxBatch), "max-batch"),
        };

        Progress? bar = null;
        string? task = null;
        object gate = new();
        void Log(string line) { lock (gate) { bar?.Dispose(); bar = null; Console.Error.WriteLine(line); } }
        void Report(int done, int total, string name)
        {
            lock (gate)
            {
                if (task != name) { bar?.Dispose(); bar = new Progress(name, total); task = name; }
                // About twenty updates per step: enough to see it move, few enough for a log file.
                if (done == total || done % Math.Max(1, total / 20) == 0) bar!.Report(done - 1, $"{done}/{total} images");
            }
        }

        var summary = new DemoRun(options, Log, Report).RunAsync().GetAwaiter().GetResult();
        lock (gate) bar?.Dispose();
        string reportPath = Path.Combine(options.WorkDirectory, "report.html");
        DemoReport.WriteHtml(summary, reportPath);
        if (cl.Has("json")) DemoReport.WriteJson(summary, reportPath);
        else
        {
            Console.WriteLine(DemoReport.Table(summary));
            Console.WriteLine($"report: {reportPath}");
        }
        return 0;
    }

    private static int Positive(int value, string name) =>
        value > 0 ? value : throw new UsageException($"--{name} must be at least 1");
}
