using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Codecs;
using Cleave.Evaluation.Resilience;
using Cleave.Runtime.Links;

namespace Cleave.Cli.Commands;

/// <summary><c>cleave eval --ber ...</c>: parses the bit-error options, runs <see cref="BitErrorStudy"/>, prints its table.</summary>
internal static class EvalBitErrors
{
    public static readonly string[] ValueOptions = ["ber", "ber-burst", "resilient", "seed", "error-aware"];

    public const string Help =
        "Bit errors (docs/resilience.md): with --ber, the frames of --split's one --codec cross a bit-error channel, plain and\n" +
        "in the resilient layout, and top-1 is reported per error rate:\n" +
        "  --ber P[,P...]      bit-error rates to study (independent flips), e.g. 1e-6,1e-5,1e-4,1e-3\n" +
        "  --ber-burst L[,L]   also study each rate as Gilbert-Elliott bursts of mean length L bits\n" +
        "  --resilient OPTS    the resilient layout's options (default planes=1,rows=14): frames are resilient:OPTS/CODEC\n" +
        "                      (add layout=2 to share the grid and a context prior across groups; needs rans-ifc ctx=2d)\n" +
        "  --seed S            the channel's seed (default 17): the same seed gives the same flips\n" +
        "  --error-aware DIR   also answer the interpolated tensors with DIR's tail.onnx (a split folder from\n" +
        "                      `cleave train error-aware`, or an .onnx tail reading the cut): same bytes, another decoder";

    public static int Run(CommandLine cl, string? split)
    {
        if (split is null) throw new UsageException("--ber needs --split (one cut tensor)");
        string codec = cl.Get("codec") ?? throw new UsageException("--ber needs one --codec (the plain setting; the resilient frame wraps it)");
        if (codec.Contains(';')) throw new UsageException("--ber studies one --codec at a time");
        var channels = ParseChannels(cl.Require("ber"), cl.Get("ber-burst"));
        var (images, spec) = ClassificationDataOptions.Load(cl);
        BitErrorStudyResult result;
        using (var progress = new Progress("eval --ber", images.Count))
        {
            try
            {
                result = BitErrorStudy.Run(cl.Require("model"), split, codec, cl.Get("resilient") ?? "planes=1,rows=14", channels, images, spec,
                    cl.GetInt("seed", 17), progress.Report, ErrorAwareTail(cl.Get("error-aware")));
            }
            catch (ArgumentException e) { throw new UsageException(e.Message); }
        }
        if (cl.Has("json")) PrintJson(result);
        else Print(result);
        return 0;
    }

    /// <summary>Every rate as independent flips, then every rate again as bursts of each mean length (--ber, --ber-burst).</summary>
    internal static List<BitErrorModel> ParseChannels(string rateList, string? burstList)
    {
        var rates = ParseList(rateList, "--ber");
        var bursts = burstList is null ? [] : ParseList(burstList, "--ber-burst");
        var channels = new List<BitErrorModel>();
        try
        {
            foreach (double rate in rates) channels.Add(new BitErrorModel(rate));
            foreach (double burst in bursts)
                foreach (double rate in rates) channels.Add(new BitErrorModel(rate, burst));
        }
        catch (ArgumentOutOfRangeException e) { throw new UsageException(e.Message.Split(Environment.NewLine)[0]); }
        return channels;
    }

    /// <summary>A split folder's tail.onnx, or an .onnx file as given.</summary>
    private static string? ErrorAwareTail(string? path)
    {
        if (path is null) return null;
        if (Directory.Exists(path)) path = Path.Combine(path, "tail.onnx");
        return File.Exists(path) ? path : throw new UsageException($"--error-aware: '{path}' does not exist");
    }

    private static List<double> ParseList(string text, string option)
    {
        var values = new List<double>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            values.Add(double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
                : throw new UsageException($"{option}: '{part}' is not a number"));
        return values.Count > 0 ? values : throw new UsageException($"{option} needs at least one value");
    }

    private static string Mode(ConcealmentMode m) => ResilientCodec.ConcealName(m);

    private static void Print(BitErrorStudyResult r)
    {
        double n = Math.Max(1, r.Images) / 100.0;
        Console.WriteLine($"{r.Model} cut {r.Cut}, {r.Images} images; unsplit top-1 {r.FullTop1 / n:F1} %");
        Console.WriteLine($"plain     {r.PlainSpec}: {r.MeanPlainBytes:F0} B/frame, error-free top-1 {r.PlainTop1 / n:F1} %");
        Console.WriteLine($"resilient {r.ResilientSpec}: {r.MeanResilientBytes:F0} B/frame ({r.OverheadPercent:+0.00;-0.00} %), error-free top-1 {r.ResilientTop1 / n:F1} %");
        Console.WriteLine("plain A = a refused frame counts as a wrong answer; plain B = resent until intact (tx = transmissions per answer, at most 100)");
        if (r.ErrorAwareTop1 is { } a) Console.WriteLine($"error-aware tail {r.ErrorAwareTail}: error-free top-1 {a / n:F1} % (resilient frames)");
        string modes = string.Join(" | ", r.Modes.Select(m => $"res {Mode(m)} top-1")) + (r.ErrorAwareTop1 is null ? "" : " | res interp + error-aware top-1");
        Console.WriteLine($"| channel | flips/frame | plain lost % | plain A top-1 | plain B top-1 | plain B tx | res. lost % | frames concealed % | groups repaired % | groups concealed % | {modes} |");
        Console.WriteLine($"| --- |{string.Concat(Enumerable.Repeat(" ---: |", 9))} {string.Join(" | ", r.Modes.Select(_ => "---:"))} |{(r.ErrorAwareTop1 is null ? "" : " ---: |")}");
        foreach (var row in r.Rows)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {row.Channel} | {row.ResilientFlipsPerFrame:F2} | {row.PlainLostPercent:F1} | {row.PlainTop1LostAsWrong:F1} | {row.PlainTop1Resent:F1} | {row.PlainMeanTransmissions:F2} | {row.ResilientLostPercent:F1} | {row.FramesConcealedPercent:F1} | {row.GroupsRepairedPercent:F2} | {row.GroupsConcealedPercent:F2} | {string.Join(" | ", row.ResilientTop1.Select(t => t.ToString("F1", CultureInfo.InvariantCulture)))} |{(row.ErrorAwareTop1 is { } e ? $" {e:F1} |" : "")}"));
    }

    private static void PrintJson(BitErrorStudyResult r) => Json.Write(w =>
    {
        double n = Math.Max(1, r.Images) / 100.0;
        w.WriteStartObject();
        w.WriteString("model", r.Model);
        w.WriteString("cut", r.Cut);
        w.WriteString("plain_codec", r.PlainSpec);
        w.WriteString("resilient_codec", r.ResilientSpec);
        w.WriteNumber("images", r.Images);
        w.WriteNumber("full_top1", r.FullTop1 / n);
        w.WriteNumber("plain_top1", r.PlainTop1 / n);
        w.WriteNumber("resilient_top1", r.ResilientTop1 / n);
        w.WriteNumber("plain_bytes_mean", r.MeanPlainBytes);
        w.WriteNumber("resilient_bytes_mean", r.MeanResilientBytes);
        w.WriteNumber("overhead_percent", r.OverheadPercent);
        if (r.ErrorAwareTop1 is { } aware)
        {
            w.WriteString("error_aware_tail", r.ErrorAwareTail);
            w.WriteNumber("error_aware_top1", aware / n);
        }
        w.WriteStartArray("channels");
        foreach (var row in r.Rows)
        {
            w.WriteStartObject();
            w.WriteNumber("ber", row.Channel.BitErrorRate);
            w.WriteNumber("mean_burst_bits", row.Channel.MeanBurstBits);
            w.WriteNumber("plain_lost_percent", row.PlainLostPercent);
            w.WriteNumber("plain_top1_lost_as_wrong", row.PlainTop1LostAsWrong);
            w.WriteNumber("plain_top1_resent", row.PlainTop1Resent);
            w.WriteNumber("plain_transmissions_mean", row.PlainMeanTransmissions);
            w.WriteNumber("plain_undelivered_percent", row.PlainUndeliveredPercent);
            w.WriteNumber("resilient_lost_percent", row.ResilientLostPercent);
            w.WriteNumber("frames_concealed_percent", row.FramesConcealedPercent);
            w.WriteNumber("groups_concealed_percent", row.GroupsConcealedPercent);
            w.WriteNumber("groups_repaired_percent", row.GroupsRepairedPercent);
            for (int m = 0; m < r.Modes.Count; m++) w.WriteNumber($"resilient_top1_{Mode(r.Modes[m])}", row.ResilientTop1[m]);
            if (row.ErrorAwareTop1 is { } e) w.WriteNumber("resilient_top1_interp_error_aware", e);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });
}
