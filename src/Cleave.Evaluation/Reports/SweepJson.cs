using System.Text.Encodings.Web;
using System.Text.Json;
using Cleave.Evaluation.Classification;

namespace Cleave.Evaluation.Reports;

/// <summary>The machine-readable form of sweep results (snake_case keys; accuracies are fractions).</summary>
public static class SweepJson
{
    public static readonly JsonWriterOptions Options = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// A point's early exit (<see cref="ExitResult"/>, snake_case, derived figures such as <c>exit_rate</c> and
    /// <c>tail_macs_saved</c> written too and ignored on reading), with the stored calibration curve.
    /// </summary>
    private static readonly JsonSerializerOptions ExitJsonOptions = new(Cleave.Models.EarlyExit.ExitManifest.JsonOptions) { WriteIndented = false };

    public static void WritePoint(Utf8JsonWriter w, OperatingPoint p, bool pareto = false, bool pareto3 = false, Action<Utf8JsonWriter>? extra = null)
    {
        w.WriteStartObject();
        w.WriteString("kind", p.Kind);
        if (p.Split is null) w.WriteNull("split"); else w.WriteString("split", p.Split);
        w.WriteString("codec", p.Codec);
        w.WriteString("family", p.Family);
        w.WriteNumber("images", p.Images);
        w.WriteNumber("top1", p.Top1);
        w.WriteNumber("top5", p.Top5);
        w.WriteNumber("agreement", p.Agreement);
        w.WriteNumber("mean_kl", p.MeanKl);
        w.WriteNumber("bytes_mean", p.BytesMean);
        w.WriteNumber("bytes_p95", p.BytesP95);
        w.WriteNumber("fp32_bytes", p.Float32Bytes);
        w.WriteNumber("x_fp32", p.CompressionVsFloat32);
        w.WriteNumber("head_params", p.HeadParams);
        w.WriteNumber("head_macs", p.HeadMacs);
        w.WriteNumber("head_ms", p.HeadMs);
        w.WriteNumber("encode_ms", p.EncodeMs);
        w.WriteNumber("decode_ms", p.DecodeMs);
        w.WriteNumber("tail_ms", p.TailMs);
        w.WriteBoolean("pareto", pareto);
        w.WriteBoolean("pareto3", pareto3);
        if (p.Exit is not null)
        {
            w.WritePropertyName("exit");
            JsonSerializer.Serialize(w, p.Exit, ExitJsonOptions);
        }
        extra?.Invoke(w);
        w.WriteEndObject();
    }

    private static void WriteOptionalPoint(Utf8JsonWriter w, string name, OperatingPoint? p)
    {
        if (p is null) { w.WriteNull(name); return; }
        w.WritePropertyName(name);
        WritePoint(w, p);
    }

    public static void Write(Utf8JsonWriter w, SweepResult result, SweepVerdict verdict, string? command = null)
    {
        var front = new HashSet<OperatingPoint>(ParetoFront.AccuracyVsBytes(result.Points), ReferenceEqualityComparer.Instance);
        var front3 = new HashSet<OperatingPoint>(ParetoFront.ComputeBytesAccuracy(result.Points), ReferenceEqualityComparer.Instance);
        w.WriteStartObject();
        w.WriteString("model", result.Model);
        if (command is not null) w.WriteString("command", command);
        w.WriteString("started_utc", result.StartedUtc.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture));
        w.WriteNumber("elapsed_s", Math.Round(result.ElapsedSeconds, 1));
        w.WriteNumber("images", result.Images);
        w.WriteNumber("full_top1", result.FullTop1);
        w.WriteNumber("full_top5", result.FullTop5);
        w.WriteNumber("total_macs", result.TotalMacs);
        w.WriteNumber("total_params", result.TotalParams);
        w.WriteStartArray("points");
        foreach (var p in result.Points) WritePoint(w, p, front.Contains(p), front3.Contains(p));
        w.WriteEndArray();
        w.WriteStartObject("verdict");
        WriteOptionalPoint(w, "best_split", verdict.BestSplit);
        WriteOptionalPoint(w, "best_light_device", verdict.BestLightDevice);
        w.WriteNumber("light_device_share", SweepVerdict.DeviceShareBudget);
        w.WriteBoolean("within_1_point", verdict.WithinTolerance);
        w.WriteBoolean("meets_20x_vs_float32", verdict.MeetsCompression);
        w.WriteStartObject("beats_offload");
        foreach (var (kind, win) in verdict.BeatsOffload) w.WriteBoolean(kind, win);
        w.WriteEndObject();
        w.WriteStartObject("offload_within_1_point");
        foreach (var (kind, p) in verdict.OffloadWithinTolerance) if (p is null) w.WriteNull(kind); else w.WriteString(kind, p.Codec);
        w.WriteEndObject();
        w.WriteStartArray("sentences");
        foreach (string s in verdict.Sentences) w.WriteStringValue(s);
        w.WriteEndArray();
        w.WriteStartArray("per_split");
        foreach (string s in verdict.PerSplitSentences) w.WriteStringValue(s);
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>
    /// Reads results.json back (to re-render a report without re-running the sweep); returns the command recorded
    /// in it, if any. Throws <see cref="FormatException"/> naming the first missing or mistyped key.
    /// </summary>
    public static SweepResult Read(string path, out string? command)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        command = root.TryGetProperty("command", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        var points = new List<OperatingPoint>();
        foreach (var p in Get(root, "points").EnumerateArray())
            points.Add(new OperatingPoint
            {
                Kind = Str(p, "kind"), Split = Get(p, "split").ValueKind == JsonValueKind.Null ? null : Str(p, "split"), Codec = Str(p, "codec"),
                Family = Str(p, "family"), Images = Get(p, "images").GetInt32(), Top1 = Num(p, "top1"), Top5 = Num(p, "top5"),
                Agreement = Num(p, "agreement"), MeanKl = Num(p, "mean_kl"), BytesMean = Num(p, "bytes_mean"), BytesP95 = Num(p, "bytes_p95"),
                Float32Bytes = Num(p, "fp32_bytes"), HeadParams = Get(p, "head_params").GetInt64(), HeadMacs = Get(p, "head_macs").GetInt64(),
                HeadMs = Num(p, "head_ms"), EncodeMs = Num(p, "encode_ms"), DecodeMs = Num(p, "decode_ms"), TailMs = Num(p, "tail_ms"),
                Exit = p.TryGetProperty("exit", out var exit) && exit.ValueKind == JsonValueKind.Object ? ReadExit(exit) : null,
            });
        return new SweepResult
        {
            Model = Str(root, "model"), Images = Get(root, "images").GetInt32(), FullTop1 = Num(root, "full_top1"), FullTop5 = Num(root, "full_top5"),
            TotalMacs = Get(root, "total_macs").GetInt64(), TotalParams = Get(root, "total_params").GetInt64(), ElapsedSeconds = Num(root, "elapsed_s"),
            StartedUtc = DateTime.ParseExact(Str(root, "started_utc"), "yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal),
            Points = points,
        };

        static ExitResult ReadExit(JsonElement e)
        {
            try { return e.Deserialize<ExitResult>(ExitJsonOptions) ?? throw new FormatException("sweep results key 'exit' is empty"); }
            catch (JsonException x) { throw new FormatException($"sweep results key 'exit' is not an exit result: {x.Message}", x); }
        }
        static JsonElement Get(JsonElement e, string key) =>
            e.TryGetProperty(key, out var v) ? v : throw new FormatException($"sweep results lack '{key}'");
        static string Str(JsonElement e, string key) =>
            Get(e, key) is { ValueKind: JsonValueKind.String } v ? v.GetString()! : throw new FormatException($"sweep results key '{key}' is not a string");
        static double Num(JsonElement e, string key) =>
            Get(e, key) is { ValueKind: JsonValueKind.Number } v ? v.GetDouble() : throw new FormatException($"sweep results key '{key}' is not a number");
    }
}
