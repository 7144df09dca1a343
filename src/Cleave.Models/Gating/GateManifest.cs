using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cleave.Models.Gating;

/// <summary>
/// <c>gate.json</c> beside a split's <c>split.json</c>: the per-input gate (<see cref="GateFile"/>, an ONNX model reading
/// the cut tensor and scoring each configuration of <see cref="Codecs"/>, cheapest first), the threshold the device
/// chooses at (<see cref="GatePolicy"/>) and the calibration it was chosen from. Like exit.json it is not part of
/// split.json: every configuration is a codec the server already decodes from the frame alone, so the server neither
/// knows nor cares whether a device gates.
/// </summary>
public sealed record GateManifest
{
    public const string FileName = "gate.json";

    public string GateFile { get; init; } = "gate.onnx";

    /// <summary>The cut tensor the gate reads.</summary>
    public string Input { get; init; } = "";

    /// <summary>The gate model's output: one score per configuration.</summary>
    public string Output { get; init; } = "";

    /// <summary>The ladder: codec specs, cheapest first.</summary>
    public IReadOnlyList<string> Codecs { get; init; } = [];

    public double Threshold { get; init; } = GatePolicy.Never;
    public long Parameters { get; init; }
    public long Macs { get; init; }
    public string GateSha256 { get; init; } = "";

    /// <summary>How the gate was trained (free text: data, ladder, steps).</summary>
    public string Trained { get; init; } = "";

    /// <summary>The curve on the held-out calibration inputs the threshold was chosen on.</summary>
    public GateEvaluation Calibration { get; init; } = new();

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        // Static configurations have no threshold (NaN).
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static GateManifest FromJson(string json)
    {
        try
        {
            var manifest = JsonSerializer.Deserialize<GateManifest>(json, JsonOptions) ?? throw new InvalidDataException("gate manifest is empty");
            if (string.IsNullOrEmpty(manifest.Input) || string.IsNullOrEmpty(manifest.Output) || manifest.Codecs.Count < 2)
                throw new InvalidDataException("gate manifest names no input or output, or fewer than two configurations");
            if (!double.IsFinite(manifest.Threshold)) throw new InvalidDataException("gate manifest threshold is not a number");
            if (manifest.GateFile.Contains('/') || manifest.GateFile.Contains('\\') || manifest.GateFile.Contains(".."))
                throw new InvalidDataException($"gate file '{manifest.GateFile}' must be a plain file name in the split folder");
            return manifest;
        }
        catch (JsonException e) { throw new InvalidDataException($"gate manifest is not valid: {e.Message}", e); }
    }

    public static GateManifest Load(string path) => FromJson(File.ReadAllText(path));
}
