using System.Text.Json.Serialization;

namespace Cleave.Planning.Planner;

/// <summary>Where the model runs: all on the device, all on the server (the input sent as JPEG), or split at a cut.</summary>
public enum ConfigurationKind
{
    Local,
    Offload,
    Split,
}

/// <summary>
/// One way to serve a request, with its costs already scaled to the device and server it is planned for: device time
/// (preprocess + head, or the whole model), encode time, bytes up, server time (decode + tail, or the whole model) and
/// result bytes down. These are link-independent, so a client can re-predict its latency for any link it measures.
/// </summary>
public sealed record Configuration
{
    /// <summary>Stable name: <c>local</c>, <c>offload:jpeg:q=75</c> or <c>split:TENSOR|CODEC</c>.</summary>
    public required string Id { get; init; }
    public required ConfigurationKind Kind { get; init; }

    /// <summary>The model this configuration runs, when a plan chooses among several (<see cref="ModelSet"/>); null for one model.</summary>
    public string? Model { get; init; }

    /// <summary>Cut tensor (splits only).</summary>
    public string? Split { get; init; }

    /// <summary>Codec spec at the cut (splits), or <c>jpeg:q=Q</c> (offload).</summary>
    public string? Codec { get; init; }

    public double DeviceMs { get; init; }
    public double EncodeMs { get; init; }
    public double BytesMean { get; init; }
    public double BytesP95 { get; init; }
    public double ServerDecodeMs { get; init; }
    public double ServerMs { get; init; }
    public int ResultBytes { get; init; }

    /// <summary>Top-1 on the calibration images and its drop from the unsplit model, in percentage points.</summary>
    public double Top1 { get; init; }
    public double DropPoints { get; init; }
    public double Agreement { get; init; }

    /// <summary>
    /// A split with the split folder's early exit: the confidence threshold the device answers at (null: no exit). The
    /// costs above are those of a sent request; <see cref="ExitRate"/> of the requests never leave the device.
    /// </summary>
    public double? ExitThreshold { get; init; }

    /// <summary>Share of requests the exit answers on the device (from the calibration curve stored with the split).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double ExitRate { get; init; }

    /// <summary>The exit head's time on the device, paid by every request (in addition to <see cref="DeviceMs"/>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double ExitMs { get; init; }

    /// <summary>
    /// The folder the exit was planned from (<c>cleave plan --exit</c>): <c>cleave split --plan</c> copies its exit.json and
    /// exit.onnx into the cut's folder, where <see cref="Serving.PlanClient"/> runs it.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ExitFolder { get; init; }

    /// <summary>SHA-256 of the planned exit model: a client refuses an exit.onnx with another.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ExitSha256 { get; init; }

    [JsonIgnore]
    public bool UsesNetwork => Kind != ConfigurationKind.Local;

    /// <summary>Share of requests that go to the server (1 without an exit).</summary>
    [JsonIgnore]
    public double SendRate => 1 - ExitRate;

    /// <summary>Uplink bytes per request on average: (1 - exit rate) x frame bytes (0 for local).</summary>
    public double ExpectedBytes => UsesNetwork ? SendRate * BytesMean : 0;

    /// <summary>Server work per request (decode + tail, or the whole model), on average over exited and sent requests.</summary>
    [JsonIgnore]
    public double ServerTotalMs => SendRate * (ServerDecodeMs + ServerMs);

    /// <summary>A split configuration with an exit at <paramref name="threshold"/>: <c>split:TENSOR|CODEC|exit=T</c>.</summary>
    public static string ExitId(string splitId, double threshold) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{splitId}|exit={threshold:0.####}");

    public static string SplitId(string tensor, string codec) => $"split:{tensor}|{codec}";
    public static string OffloadId(int quality) => $"offload:{OffloadCodec(quality)}";

    /// <summary>The image baseline spec the device encodes with (Cleave.Evaluation's <c>ImageBaseline</c>).</summary>
    public static string OffloadCodec(int quality) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"jpeg:q={quality}");
    public const string LocalId = "local";
}
