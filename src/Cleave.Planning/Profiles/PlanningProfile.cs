using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cleave.Planning.Profiles;

/// <summary>
/// Everything the planner needs to know about one model on one machine, measured once (<see cref="ProfileCollector"/>)
/// and cached as JSON so that planning over many links and device speeds is instant. Times are milliseconds on the
/// machine named in <see cref="Machine"/>; accuracies are top-1 fractions on the same <see cref="Images"/> calibration
/// images; bytes are whole frames (headers included) per sample.
/// </summary>
public sealed record PlanningProfile
{
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;
    public string Model { get; init; } = "";
    public string ModelSha256 { get; init; } = "";

    /// <summary>Where the timings were taken (processor count, OS), so a profile from a phone can be told apart.</summary>
    public string Machine { get; init; } = "";

    public string CreatedUtc { get; init; } = "";
    public int Images { get; init; }

    /// <summary>Top-1 of the unsplit model on the calibration images (the reference every drop is measured from).</summary>
    public double FullTop1 { get; init; }

    /// <summary>Median latency of the whole model (full local inference, and the server's work under full offload).</summary>
    public double FullMs { get; init; }

    /// <summary>Preprocessing a decoded image (crop, resize, normalise) into the input tensor, on the device.</summary>
    public double PreprocessMs { get; init; }

    /// <summary>
    /// The model's input shape and number of classes, and a SHA-256 over the calibration images' file names and labels:
    /// what makes two models' profiles comparable when one plan chooses among several models
    /// (<see cref="Planner.ModelSet"/>). Absent (empty, 0, null) in profiles collected before 2026-12-02.
    /// </summary>
    public IReadOnlyList<long> InputShape { get; init; } = [];
    public int Classes { get; init; }
    public string? CalibrationSha256 { get; init; }

    /// <summary>Bytes the server sends back per request (top-k classes and timing, with gRPC framing).</summary>
    public int ResultBytes { get; init; } = 64;

    public IReadOnlyList<SplitProfile> Splits { get; init; } = [];
    public IReadOnlyList<OffloadPoint> Offload { get; init; } = [];

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        // Readable files (<=, quotes): they are read by people and JSON parsers, never embedded in HTML.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public void Save(string path) => File.WriteAllText(path, ToJson());

    public static PlanningProfile Load(string path)
    {
        PlanningProfile? profile;
        try { profile = JsonSerializer.Deserialize<PlanningProfile>(File.ReadAllText(path), JsonOptions); }
        catch (JsonException e) { throw new InvalidDataException($"'{path}' is not a planning profile: {e.Message}", e); }
        if (profile is null) throw new InvalidDataException($"'{path}' is empty");
        if (profile.Version != CurrentVersion)
            throw new InvalidDataException($"'{path}' is a version {profile.Version} profile; this build reads version {CurrentVersion} (collect it again)");
        return profile;
    }
}

/// <summary>One cut: the halves' latencies, the float32 size of the feature and each codec setting's calibration result.</summary>
public sealed record SplitProfile
{
    public string Tensor { get; init; } = "";
    public IReadOnlyList<long> Shape { get; init; } = [];
    public double HeadMacShare { get; init; }
    public double HeadMs { get; init; }
    public double TailMs { get; init; }
    public long Fp32Bytes { get; init; }
    public IReadOnlyList<CodecPoint> Codecs { get; init; } = [];
}

/// <summary>A codec setting at a cut: top-1 and agreement after head → codec → tail, frame bytes, coding times.</summary>
public sealed record CodecPoint(string Codec, double Top1, double Agreement, double BytesMean, double BytesP95, double EncodeMs, double DecodeMs);

/// <summary>
/// Full offload: the device sends the model-sized input image as JPEG at <see cref="Quality"/>; the server decodes it
/// and runs the whole model. <see cref="EncodeMs"/> is the device's resize + encode, <see cref="DecodeMs"/> the server's
/// decode + preprocess.
/// </summary>
public sealed record OffloadPoint(int Quality, double Top1, double Agreement, double BytesMean, double BytesP95, double EncodeMs, double DecodeMs);
