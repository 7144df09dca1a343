using System.Globalization;
using System.Text.Json;
using Cleave.Cli.Infrastructure;
using Cleave.Models;
using Cleave.Models.Importers.TfLite;
using Cleave.Models.Preprocessing;

namespace Cleave.Cli.Commands;

public sealed class ImportCommand : ICommand
{
    public string Name => "import";
    public string Summary => "convert a TFLite model to an ONNX float model (NCHW, preprocessing in metadata)";
    public string Usage => """
        usage: cleave import <model.tflite> -o <model.onnx> [options]
          -o, --output PATH      ONNX file to write (written atomically: nothing is left behind on failure)
          --batch auto|symbolic|fixed
                                 batch dimension: symbolic "N" when the graph allows it (auto, default), or 1
          --crop F               central crop fraction recorded for preprocessing (default 0.875 for classifiers, else 1)
          --input-name NAME      name of the ONNX image input (default "input")
          --measure-imagenet     afterwards, score top-1/top-5 on <assets>/imagenet-sample (1001- or 1000-class models)
          --limit N              with --measure-imagenet: only the first N images
          --assets DIR           shared assets folder (default: CLEAVE_ASSETS or ../shared/assets)
          --json                 print the result as JSON
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["output", "batch", "crop", "input-name", "limit", "assets"], ["json", "measure-imagenet"]);
        string source = cl.PositionalAt(0, "the .tflite model");
        string output = cl.Require("output");
        bool? symbolic = (cl.Get("batch") ?? "auto") switch
        {
            "auto" => null,
            "symbolic" => true,
            "fixed" => false,
            var other => throw new UsageException($"--batch must be auto, symbolic or fixed, not '{other}'"),
        };
        double? crop = cl.Has("crop") ? cl.GetDouble("crop", 1) : null;
        if (crop is <= 0 or > 1) throw new UsageException("--crop must be in (0, 1]");
        var options = new TfLiteImportOptions { SymbolicBatch = symbolic, CropFraction = crop, InputName = cl.Get("input-name") ?? "input" };

        TfLiteImportResult result;
        try
        {
            result = TfLiteImporter.Import(source, output, options);
        }
        catch (Exception e) when (e is UnsupportedOperatorsException or TfLiteFormatException or NotSupportedException)
        {
            Console.Error.WriteLine($"cleave import: {e.Message}");
            return 1;
        }

        ClassifierAccuracy? accuracy = null;
        if (cl.Has("measure-imagenet"))
        {
            var images = ImageNetSample.FromAssets(AssetLocator.Resolve(cl.Get("assets")));
            int limit = cl.GetInt("limit", images.Count);
            using var session = new ImageModelSession(result.OutputPath);
            try
            {
                accuracy = ImageNetSample.Measure(session, images.Take(Math.Max(0, limit)).ToList());
            }
            catch (InvalidDataException e)
            {
                Console.Error.WriteLine($"cleave import: the model was written, but measuring failed: {e.Message}");
                return 1;
            }
        }

        if (cl.Has("json"))
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                output = result.OutputPath,
                bytes = result.OutputBytes,
                tfliteOperators = result.OperatorCount,
                onnxNodes = result.NodeCount,
                symbolicBatch = result.SymbolicBatch,
                input = result.InputName,
                outputs = result.OutputNames,
                operatorCounts = result.OperatorCounts,
                preprocessing = result.Preprocessing?.ToMetadata(),
                imagenet = accuracy is null ? null : new
                {
                    images = accuracy.Images, top1 = accuracy.Top1, top5 = accuracy.Top5, seconds = accuracy.Elapsed.TotalSeconds,
                },
            }, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }

        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"wrote {result.OutputPath} ({result.OutputBytes / 1e6:F1} MB): {result.OperatorCount} TFLite operators -> {result.NodeCount} ONNX nodes, batch {(result.SymbolicBatch ? "N (symbolic)" : "1 (fixed)")}");
        Console.WriteLine($"  operators: {string.Join(", ", result.OperatorCounts.Select(kv => $"{kv.Key} x{kv.Value}"))}");
        Console.WriteLine($"  input '{result.InputName}', outputs: {string.Join(", ", result.OutputNames)}");
        if (result.Preprocessing is { } p)
            Console.WriteLine(string.Create(inv, $"  preprocessing: {p.Width}x{p.Height} {p.ColorOrder} {p.Layout}, crop {p.CropFraction}, (pixel - {p.Mean[0]}) * {p.Scale[0]}"));
        if (accuracy is not null)
            Console.WriteLine(string.Create(inv, $"  imagenet-sample: top-1 {accuracy.Top1:P1}, top-5 {accuracy.Top5:P1} on {accuracy.Images} images in {accuracy.Elapsed.TotalSeconds:F1} s"));
        return 0;
    }
}
