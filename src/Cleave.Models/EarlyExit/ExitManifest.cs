using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cleave.Models.EarlyExit;

/// <summary>
/// <c>exit.json</c> beside a split's <c>split.json</c>: the exit head (<see cref="ExitFile"/>, an ONNX model reading the
/// cut tensor and giving class scores), the confidence threshold the device answers at, and the calibration curve it
/// was chosen from. It is not part of split.json on purpose: an exit changes nothing the server sees (the manifest
/// hash, the tail), so a server keeps serving a split whose devices gained or lost an exit.
/// </summary>
public sealed record ExitManifest
{
    public const string FileName = "exit.json";

    public string ExitFile { get; init; } = "exit.onnx";

    /// <summary>The cut tensor the exit reads (split.json's cut).</summary>
    public string Input { get; init; } = "";

    /// <summary>The exit model's output (class scores or probabilities; the device takes its softmax).</summary>
    public string Output { get; init; } = "";

    public int Classes { get; init; }
    public double Threshold { get; init; } = ExitCalibration.Never;
    public long Parameters { get; init; }
    public long Macs { get; init; }
    public string ExitSha256 { get; init; } = "";

    /// <summary>How the exit was trained (free text: data, steps, teacher).</summary>
    public string Trained { get; init; } = "";

    public ExitCalibration Calibration { get; init; } = new();

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static ExitManifest FromJson(string json)
    {
        try
        {
            var manifest = JsonSerializer.Deserialize<ExitManifest>(json, JsonOptions) ?? throw new InvalidDataException("exit manifest is empty");
            if (string.IsNullOrEmpty(manifest.Input) || string.IsNullOrEmpty(manifest.Output) || manifest.Classes < 1)
                throw new InvalidDataException("exit manifest names no input, output or classes");
            if (!double.IsFinite(manifest.Threshold)) throw new InvalidDataException("exit manifest threshold is not a number");
            if (manifest.ExitFile.Contains('/') || manifest.ExitFile.Contains('\\') || manifest.ExitFile.Contains(".."))
                throw new InvalidDataException($"exit file '{manifest.ExitFile}' must be a plain file name in the split folder");
            return manifest;
        }
        catch (JsonException e) { throw new InvalidDataException($"exit manifest is not valid: {e.Message}", e); }
    }

    public static ExitManifest Load(string path) => FromJson(File.ReadAllText(path));
}
