using System.Globalization;
using System.Text.Json;
using Cleave.Cli.Infrastructure;
using Cleave.Models;
using Cleave.Models.Importers.Llama2c;
using Cleave.Runtime.Generation;
using Cleave.Models.Importers.TfLite;
using Cleave.Models.Preprocessing;
using Cleave.Models.Text;

namespace Cleave.Cli.Commands;

public sealed class ImportCommand : ICommand
{
    public string Name => "import";
    public string Summary => "convert a TFLite model to ONNX, or a llama2.c checkpoint to a KV-cached ONNX model folder";
    public string Usage => """
        usage: cleave import <model.tflite> -o <model.onnx> [options]
               cleave import <checkpoint.bin> --tokenizer <tokenizer.bin> -o <DIR> [--splits [--prediction-tokens N]] [--measure-perplexity]
          --format tflite|llama2c
                                 source format (default: from the extension, .tflite or .bin)
          -o, --output PATH      ONNX file to write (written atomically: nothing is left behind on failure)
          --batch auto|symbolic|fixed
                                 batch dimension: symbolic "N" when the graph allows it (auto, default), or 1
          --crop F               central crop fraction recorded for preprocessing (default 0.875 for classifiers, else 1)
          --input-name NAME      name of the ONNX image input (default "input")
          --measure-imagenet     afterwards, score top-1/top-5 on <assets>/imagenet-sample (1001- or 1000-class models)
          --limit N              with --measure-imagenet: only the first N images
          --assets DIR           shared assets folder (default: CLEAVE_ASSETS or ../shared/assets)
          --json                 print the result as JSON
        llama2.c checkpoints (Llama-2 architecture; writes DIR/model.onnx with per-layer KV cache, tokenizer.bin, config.json):
          --tokenizer PATH       the checkpoint's tokenizer.bin (required)
          --splits               also write head_k.onnx / tail_k.onnx for every split layer k
          --prediction-tokens N  with --splits: also write predict_k.bin, the token prediction table the codec
                                 tq:...,predict=token needs, fitted on N tokens of the model's own text (8192 is typical)
          --measure-perplexity   afterwards, teacher-forced perplexity and top-1 on <assets>/llm/tinystories_sample.txt
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["output", "batch", "crop", "input-name", "limit", "assets", "format", "tokenizer", "prediction-tokens"],
            ["json", "measure-imagenet", "splits", "measure-perplexity"]);
        string source = cl.PositionalAt(0, "the model to import (.tflite or llama2.c .bin)");
        string output = cl.Require("output");
        string format = cl.Get("format") ?? (Path.GetExtension(source).ToLowerInvariant() switch
        {
            ".tflite" => "tflite",
            ".bin" => "llama2c",
            _ => throw new UsageException($"cannot tell the format of '{source}' from its extension: pass --format tflite|llama2c"),
        });
        if (format == "llama2c") return RunLlama2c(cl, source, output);
        if (format != "tflite") throw new UsageException($"--format must be tflite or llama2c, not '{format}'");
        if (cl.Has("tokenizer") || cl.Has("splits") || cl.Has("measure-perplexity") || cl.Has("prediction-tokens"))
            throw new UsageException("--tokenizer, --splits, --prediction-tokens and --measure-perplexity apply to llama2.c checkpoints only");
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
                accuracy = ImageNetAccuracy.Measure(session, images.Take(Math.Max(0, limit)).ToList());
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

    private static int RunLlama2c(CommandLine cl, string source, string output)
    {
        foreach (string tfliteOnly in new[] { "batch", "crop", "input-name", "measure-imagenet", "limit" })
            if (cl.Has(tfliteOnly)) throw new UsageException($"--{tfliteOnly} applies to TFLite models only");
        string tokenizer = cl.Get("tokenizer") ?? throw new UsageException("a llama2.c checkpoint needs --tokenizer <tokenizer.bin>");
        int predictionTokens = cl.GetInt("prediction-tokens", 0);
        if (cl.Has("prediction-tokens") && (!cl.Has("splits") || predictionTokens < 1))
            throw new UsageException("--prediction-tokens N needs --splits and N >= 1");
        var result = Llama2cImporter.Import(source, tokenizer, output, cl.Has("splits"));
        var c = result.Config;
        if (predictionTokens > 0)
        {
            var folder = LlamaModelFolder.Open(result.Directory);
            foreach (int k in c.Splits) TokenPredictionTableFile.Write(folder, k, predictionTokens);
        }

        TextScore? score = null;
        if (cl.Has("measure-perplexity"))
        {
            string sample = Path.Combine(AssetLocator.Resolve(cl.Get("assets")), "llm", "tinystories_sample.txt");
            var folder = LlamaModelFolder.Open(result.Directory);
            using var session = folder.CreateSession();
            score = folder.Score(session, TextDocuments.Split(File.ReadAllText(sample)));
        }

        if (cl.Has("json"))
        {
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("format", "llama2c");
                w.WriteString("directory", result.Directory);
                w.WriteString("model", result.ModelPath);
                w.WriteNumber("bytes", result.ModelBytes);
                w.WriteNumber("onnx_nodes", result.NodeCount);
                w.WriteNumber("dim", c.Dim);
                w.WriteNumber("hidden_dim", c.HiddenDim);
                w.WriteNumber("layers", c.Layers);
                w.WriteNumber("heads", c.Heads);
                w.WriteNumber("kv_heads", c.KvHeads);
                w.WriteNumber("vocab_size", c.VocabSize);
                w.WriteNumber("seq_len", c.SeqLen);
                w.WriteString("sourceSha256", c.SourceSha256);
                w.WriteStartArray("splits");
                foreach (int k in c.Splits) w.WriteNumberValue(k);
                w.WriteEndArray();
                if (score is { } s)
                {
                    w.WriteStartObject("perplexity");
                    w.WriteNumber("tokens", s.Predictions);
                    w.WriteNumber("mean_nll", s.MeanNll);
                    w.WriteNumber("perplexity", s.Perplexity);
                    w.WriteNumber("top1", s.Top1);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            });
            return 0;
        }

        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"wrote {result.Directory}: model.onnx ({result.ModelBytes / 1e6:F1} MB, {result.NodeCount} nodes), tokenizer.bin, config.json");
        Console.WriteLine($"  llama2.c: dim {c.Dim}, hidden {c.HiddenDim}, {c.Layers} layers, {c.Heads} heads / {c.KvHeads} KV heads, vocab {c.VocabSize}, seq_len {c.SeqLen}");
        if (c.Splits.Length > 0) Console.WriteLine($"  split halves for k = {string.Join(", ", c.Splits)} (head_k.onnx, tail_k.onnx, tail_k_batch.onnx)");
        if (score is { } t)
            Console.WriteLine(string.Create(inv, $"  tinystories_sample: perplexity {t.Perplexity:F3} (mean NLL {t.MeanNll:F4} nats over {t.Predictions} tokens), top-1 {t.Top1:P1}"));
        return 0;
    }
}
