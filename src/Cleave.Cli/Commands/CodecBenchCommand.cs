using Cleave.Cli.Infrastructure;
using Cleave.Codecs;
using Cleave.Codecs.Analysis;
using Cleave.Codecs.Npy;

namespace Cleave.Cli.Commands;

public sealed class CodecBenchCommand : ICommand
{
    public string Name => "codec bench";
    public string Summary => "compare codecs on a tensor: bytes, entropy bound, distortion, speed";
    public string Usage => $"""
        usage: cleave codec bench [<in.npy>] [--codecs "SPEC;SPEC;..."] [--seconds S] [--json]
          <in.npy>       tensor to study; without it a generated ReLU-like tensor [1,64,125,125] (half zeros,
                         log-normal positive part) stands in for a real feature
          --codecs       ';'-separated codec specs (default: {string.Join(";", FeatureCodecs.Examples)})
          --seconds S    minimum time spent timing each of encode and decode per codec (default 0.25)
          --json         one JSON array, an object per codec
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["codecs", "seconds"], ["json"]);
        double seconds = cl.GetDouble("seconds", 0.25);
        if (seconds < 0) throw new UsageException("--seconds must not be negative");
        var specs = (cl.Get("codecs")?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            ?? FeatureCodecs.Examples.ToArray());
        if (specs.Length == 0) throw new UsageException("--codecs lists no codec");
        var codecs = specs.Select(FeatureCodecs.Create).ToList(); // refuse a bad spec before any work

        float[] values;
        TensorShape shape;
        string source;
        if (cl.Positional.Count > 0)
        {
            source = cl.Positional[0];
            (values, shape) = NpyFile.ReadFloat32(source);
        }
        else
        {
            shape = new TensorShape(1, 64, 125, 125);
            values = SyntheticTensors.ReluLike(shape.ElementCount, seed: 1);
            source = "generated ReLU-like tensor (seed 1)";
        }

        bool json = cl.Has("json");
        var results = new List<CodecBenchmarkResult>();
        using (var progress = new Progress("codec bench", codecs.Count))
        {
            for (int i = 0; i < codecs.Count; i++)
            {
                progress.Report(i, codecs[i].Spec);
                results.Add(CodecBenchmark.Run(codecs[i], values, shape, seconds));
            }
        }

        if (json) WriteJson(results);
        else WriteTable(results, source, shape);
        return 0;
    }

    private static void WriteTable(List<CodecBenchmarkResult> results, string source, TensorShape shape)
    {
        Console.WriteLine($"{source}: shape {shape}, {shape.ElementCount:N0} elements, {shape.ElementCount * 4L:N0} bytes as float32");
        Console.WriteLine($"{"codec",-36} {"bytes",11} {"ratio",7} {"bits/el",8} {"entropy B",11} {"SNR dB",7} {"rel MSE",9} {"max err",9} {"enc MB/s",9} {"dec MB/s",9}");
        foreach (var r in results)
        {
            string bound = r.HasEntropyBound ? $"{r.EntropyBoundBytes,11:N0}" : $"{"-",11}";
            string snr = double.IsPositiveInfinity(r.Distortion.SnrDb) ? "exact" : $"{r.Distortion.SnrDb:F1}";
            Console.WriteLine($"{r.Codec,-36} {r.Bytes,11:N0} {r.RatioVsFloat32,7:F2} {r.BitsPerElement,8:F3} {bound} {snr,7} " +
                $"{r.Distortion.RelativeMse,9:E2} {r.Distortion.MaxAbsError,9:E2} {r.EncodeMBps,9:F0} {r.DecodeMBps,9:F0}");
        }
        Console.WriteLine("ratio = float32 bytes / frame bytes (headers included); MB/s of float32 input, median of repeated runs, one thread.");
    }

    private static void WriteJson(List<CodecBenchmarkResult> results) => Json.Write(w =>
    {
        w.WriteStartArray();
        foreach (var r in results)
        {
            w.WriteStartObject();
            w.WriteString("codec", r.Codec);
            w.WriteNumber("elements", r.Elements);
            w.WriteNumber("bytes", r.Bytes);
            w.WriteNumber("ratio_vs_fp32", r.RatioVsFloat32);
            w.WriteNumber("bits_per_element", r.BitsPerElement);
            if (r.HasEntropyBound) w.WriteNumber("entropy_bound_bytes", r.EntropyBoundBytes);
            else w.WriteNull("entropy_bound_bytes");
            w.WriteNumberOrNull("snr_db", r.Distortion.SnrDb);
            w.WriteNumber("rel_mse", r.Distortion.RelativeMse);
            w.WriteNumber("max_abs_error", r.Distortion.MaxAbsError);
            w.WriteNumber("encode_mbps", r.EncodeMBps);
            w.WriteNumber("decode_mbps", r.DecodeMBps);
            w.WriteNumber("repetitions", r.Repetitions);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    });
}
