using Cleave.Cli.Infrastructure;
using Cleave.Codecs;
using Cleave.Evaluation.Sentences;
using Cleave.Models;

namespace Cleave.Cli.Commands;

/// <summary><c>cleave eval --task sts</c>: output formatting over <see cref="SplitSentenceEval"/>.</summary>
internal static class EvalStsTask
{
    public static int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["model", "vocab", "packages", "data", "split", "codec", "limit", "assets"], ["json"]);
        string split = cl.Require("split");
        int limit = cl.GetInt("limit", int.MaxValue);
        if (limit < 2) throw new UsageException("--limit must be at least 2 (Spearman needs pairs)");
        if (cl.Has("model") != cl.Has("vocab")) throw new UsageException("--model and --vocab go together");
        string data = cl.Get("data") ?? Path.Combine(AssetLocator.Resolve(cl.Get("assets")), "text", "sts-test.csv");
        var codecs = (cl.Get("codec") ?? "raw").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(FeatureCodecs.Create).ToList();
        var model = cl.Get("model") is string onnx
            ? SentenceEncoderModel.FromFiles(onnx, cl.Require("vocab"))
            : SentenceEncoderModel.FromMiniLmPackage(cl.Get("packages"));
        var pairs = StsBenchmark.Load(data, limit);

        var results = new List<SplitSentenceResult>();
        SplitSentenceEval eval;
        using (var progress = new Progress("eval sts: unsplit + head", 2 * pairs.Count))
            eval = SplitSentenceEval.Prepare(model, split, pairs, (i, _) => progress.Report(i, "sentence"));
        using (eval)
            foreach (var codec in codecs)
                using (var progress = new Progress($"eval sts {codec.Spec}", 2 * pairs.Count))
                    results.Add(eval.Run(codec, i => progress.Report(i, "sentence")));

        if (cl.Has("json"))
            Json.WriteObjects(results, (w, r) =>
            {
                w.WriteString("codec", r.Codec);
                w.WriteString("split", r.Split);
                w.WriteNumber("pairs", r.Pairs);
                w.WriteNumber("tokens", r.Tokens);
                w.WriteNumber("spearman", r.Spearman);
                w.WriteNumber("full_spearman", r.FullSpearman);
                w.WriteNumber("mean_cosine_to_unsplit", r.MeanCosineToUnsplit);
                w.WriteNumber("min_cosine_to_unsplit", r.MinCosineToUnsplit);
                w.WriteNumber("bytes_per_token", r.BytesPerToken);
                w.WriteNumber("bytes_mean", r.BytesMean);
                w.WriteNumber("fp32_bytes_per_token", r.Float32BytesPerToken);
                w.WriteNumber("encode_ms", r.EncodeMs);
                w.WriteNumber("decode_ms", r.DecodeMs);
                w.WriteNumber("tail_ms", r.TailMs);
            });
        else
        {
            Console.WriteLine($"{model.Name}, split {split}, {pairs.Count} pairs, {results[0].Tokens} tokens; unsplit Spearman {eval.FullSpearman:F4}");
            Console.WriteLine($"{"codec",-40} {"Spearman",8} {"delta",8} {"cos>full",8} {"B/token",8} {"x fp32",7} {"enc ms",7} {"dec ms",7}");
            foreach (var r in results)
                Console.WriteLine($"{r.Codec,-40} {r.Spearman,8:F4} {r.Spearman - r.FullSpearman,8:F4} {r.MeanCosineToUnsplit,8:F5} {r.BytesPerToken,8:F1} " +
                    $"{r.Float32BytesPerToken / r.BytesPerToken,7:F1} {r.EncodeMs,7:F3} {r.DecodeMs,7:F3}");
        }
        return 0;
    }
}
