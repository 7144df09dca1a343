using System.Globalization;
using System.Text.Json;
using Cleave.Models.EarlyExit;

namespace Cleave.Cli.Commands;

/// <summary>How `train exit` and `train exit-cnn` print a calibration curve: as JSON, and as a table with the threshold's point.</summary>
internal static class ExitCurveOutput
{
    /// <summary>"NAME": the curve, "NAME_at_threshold": the point of the calibrated threshold on it.</summary>
    public static void WriteJson(Utf8JsonWriter w, string name, ExitCalibration? curve, ExitCurvePoint? atThreshold)
    {
        if (curve is null) return;
        w.WritePropertyName(name);
        JsonSerializer.Serialize(w, curve, ExitManifest.JsonOptions);
        w.WritePropertyName(name + "_at_threshold");
        JsonSerializer.Serialize(w, atThreshold, ExitManifest.JsonOptions);
    }

    public static void Print(string what, ExitCalibration? curve, ExitCurvePoint? at)
    {
        if (curve is null || at is null) return;
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"{what}: {curve.Images:N0} images, never exiting {curve.FullAccuracy:P2}; at the threshold exit rate {at.ExitRate:P1}, overall {at.Accuracy:P2} (exits right {at.ExitCorrect}/{at.Exited})"));
        Console.WriteLine($"threshold  exit rate  accuracy  ({what})");
        foreach (var p in curve.Points) Console.WriteLine(string.Create(inv, $"{p.Threshold,9:0.####}  {p.ExitRate,9:P1}  {p.Accuracy,8:P2}"));
    }
}
