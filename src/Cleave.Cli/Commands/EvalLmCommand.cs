using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Evaluation.Language;
using Cleave.Evaluation.Plotting;
using Cleave.Models.Text;
using Cleave.Runtime.Generation;

namespace Cleave.Cli.Commands;

public sealed class EvalLmCommand : ICommand
{
    public string Name => "eval-lm";
    public string Summary => "teacher-forced perplexity and top-1 of a split language model with a codec at the cut, with bits per token";
    public string Usage => """
        usage: cleave eval-lm --model DIR --text FILE [--split-layer K[,K...]] [--codecs "SPEC[;SPEC...]"] [--limit N] [--plot FILE.png] [--json]
          --model DIR        folder written by `cleave import <checkpoint.bin> --tokenizer ... -o DIR --splits`
          --text FILE        documents separated by <|endoftext|> lines (e.g. <assets>/llm/tinystories_sample.txt)
          --split-layer K    split layer(s) 1..layers-1 (default: all)
          --codecs SPECS     ';'-separated: frame codecs (raw, fp16, quant:bits=8,...) and the per-session token codec
                             tq:levels=L,clip=K (default "raw;fp16;tq:levels=16,clip=4"); tq:levels=L,clip=K,predict=token
                             predicts each step after BOS from its input token with the split's table (predict_k.bin,
                             written by import --prediction-tokens), assuming the decoder knows those tokens (server sampling)
          --calibration-tokens N  self-generated tokens the tq codec is calibrated on (default 1024)
          --limit N          only the first N documents
          --plot FILE.png    bits per token vs perplexity, one line per split layer
        Each token's hidden state is encoded on its own, as generation sends it (frame headers count); each document is
        one session and pays the codec's session state once. Perplexity is relative to the unsplit model's.
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["model", "text", "split-layer", "codecs", "limit", "plot", "calibration-tokens"], ["json"]);
        if (cl.Positional.Count > 0) throw new UsageException($"unexpected argument '{cl.Positional[0]}'");
        var model = LlamaModelFolder.Open(cl.Require("model"));
        var documents = TextDocuments.Split(File.ReadAllText(cl.Require("text"))).Take(cl.GetInt("limit", int.MaxValue)).ToList();
        if (documents.Count == 0) throw new UsageException("the text holds no documents");
        int calibrationTokens = cl.GetInt("calibration-tokens", TokenCodecCalibration.DefaultTokens);
        if (calibrationTokens < 1) throw new UsageException("--calibration-tokens must be positive");
        int[] layers = cl.Get("split-layer") is { } text
            ? [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => int.TryParse(s, CultureInfo.InvariantCulture, out int k) ? k : throw new UsageException($"--split-layer: '{s}' is not an integer"))]
            : [.. Enumerable.Range(1, model.Config.Layers - 1)];
        foreach (int k in layers)
            if (k < 1 || k >= model.Config.Layers) throw new UsageException($"--split-layer {k}: must be 1..{model.Config.Layers - 1}");
        string[] codecs = (cl.Get("codecs") ?? "raw;fp16;tq:levels=16,clip=4").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        var reference = SplitLanguageModelEval.Reference(model, documents);
        var results = new List<LanguageCodecResult>();
        using (var progress = new Progress("eval-lm", layers.Length * codecs.Length))
            foreach (int k in layers)
            {
                TokenCalibrationRows? calibration = null;
                foreach (string codec in codecs)
                {
                    progress.Report(results.Count, $"k={k} {codec}");
                    results.Add(SplitLanguageModelEval.Evaluate(model, k, codec, documents,
                        () => calibration ??= TokenCodecCalibration.SelfGeneratedRows(model, k, calibrationTokens)));
                }
            }

        if (cl.Get("plot") is { } plot)
        {
            var chart = new LineChart
            {
                Title = $"{model.Config.Source}: uplink bits per token vs perplexity ({documents.Count} documents)",
                XLabel = "uplink bits per token (payload + session state)", YLabel = "perplexity", LogX = true,
            };
            // The per-session token codec's settings form one curve per split layer; frame codecs are separate points.
            foreach (int k in layers)
                foreach (bool token in new[] { true, false })
                {
                    var points = results.Where(r => r.SplitLayer == k && r.Codec.StartsWith("tq:", StringComparison.Ordinal) == token)
                        .OrderBy(r => r.BitsPerToken).Select(r => (r.BitsPerToken, r.Score.Perplexity)).ToList();
                    if (points.Count > 0) chart.Series.Add(new ChartSeries($"k={k} {(token ? "tq (session state)" : "frame codecs")}", points, Connect: token));
                }
            double left = results.Min(r => r.BitsPerToken), right = results.Max(r => r.BitsPerToken);
            chart.Series.Add(new ChartSeries("unsplit", [(left, reference.Perplexity), (right, reference.Perplexity)]));
            chart.Series.Add(new ChartSeries("unsplit +2%", [(left, reference.Perplexity * 1.02), (right, reference.Perplexity * 1.02)]));
            File.WriteAllBytes(plot, chart.RenderPng());
        }

        if (cl.Has("json"))
        {
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("model", model.Directory);
                w.WriteNumber("documents", documents.Count);
                w.WriteNumber("reference_perplexity", reference.Perplexity);
                w.WriteNumber("reference_top1", reference.Top1);
                w.WriteStartArray("results");
                foreach (var r in results)
                {
                    w.WriteStartObject();
                    w.WriteNumber("split_layer", r.SplitLayer);
                    w.WriteString("codec", r.Codec);
                    w.WriteNumber("tokens", r.Tokens);
                    w.WriteNumber("perplexity", r.Score.Perplexity);
                    w.WriteNumber("perplexity_change", r.Score.Perplexity / reference.Perplexity - 1);
                    w.WriteNumber("top1", r.Score.Top1);
                    w.WriteNumber("bits_per_token", r.BitsPerToken);
                    w.WriteNumber("payload_bits_per_token", r.PayloadBitsPerToken);
                    w.WriteNumber("state_bits_per_token", r.StateBitsPerToken);
                    w.WriteNumber("state_bytes_per_session", r.Documents == 0 ? 0 : r.StateBytes / r.Documents);
                    w.WriteNumber("fraction_of_float32", r.FractionOfFloat32);
                    w.WriteBoolean("predicted_from_input_tokens", r.PredictedFromInputTokens);
                    w.WriteNumber("model_data_bytes", r.ModelDataBytes);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
            return 0;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"unsplit: perplexity {reference.Perplexity:F4}, top-1 {reference.Top1:P1} ({reference.Predictions} predictions, {documents.Count} documents)"));
        Console.WriteLine("| k | codec | bits/token | of float32 | state bytes/session | state bits/token | perplexity | change | top-1 |");
        Console.WriteLine("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in results)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.SplitLayer} | `{r.Codec}`{(r.PredictedFromInputTokens ? " *" : "")} | {r.BitsPerToken:F1} | {r.FractionOfFloat32:P1} | {(r.Documents == 0 ? 0 : r.StateBytes / r.Documents)} | {r.StateBitsPerToken:F1} | {r.Score.Perplexity:F4} | {Change(r.Score.Perplexity / reference.Perplexity - 1)} | {r.Score.Top1:P1} |"));
        if (results.FirstOrDefault(r => r.PredictedFromInputTokens) is { } predicted)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"* each step after BOS predicted from its input token, assuming the decoder knows it (a server that sampled it; not with --client-samples); the split's table ({predicted.ModelDataBytes} B, model-level) is not in the bits"));
        return 0;
    }

    /// <summary>A signed percentage; changes that round to zero print as +0.00% (no "-0.00%").</summary>
    private static string Change(double fraction)
    {
        double rounded = Math.Round(fraction, 4);
        return (rounded == 0 ? 0 : rounded).ToString("+0.00%;-0.00%", CultureInfo.InvariantCulture);
    }
}
