using Cleave.Models.EarlyExit;
using Cleave.Runtime;
using Cleave.Runtime.Client;

namespace Cleave.Planning.Planner;

/// <summary>
/// An early exit a plan may use: the split folder holding it (<c>exit.json</c> + <c>exit.onnx</c>, from
/// <c>cleave train exit</c>), the cut tensor it reads, the calibration curve stored with it (exit rate and overall
/// accuracy per threshold on held-out images) and its time on this machine.
/// </summary>
public sealed record ExitOption(string Folder, string Tensor, ExitCalibration Curve, double ExitMs, long ExitMacs)
{
    /// <summary>SHA-256 of the exit model (from exit.json): a plan records it so its client runs the exit it was planned with.</summary>
    public string ExitSha256 { get; init; } = "";

    /// <summary>Loads the folder's exit (checked as a device checks it) and times it on a zero cut tensor: the median of five runs after one warm-up.</summary>
    public static ExitOption Load(string folder)
    {
        var split = SplitDirectory.Load(folder);
        using var exit = DeviceExit.Load(split, threads: 1)
            ?? throw new FileNotFoundException($"'{folder}' holds no {ExitManifest.FileName} (train one with `cleave train exit`)", Path.Combine(folder, ExitManifest.FileName));
        if (exit.Manifest.Calibration.Points.Count == 0)
            throw new InvalidDataException($"{ExitManifest.FileName} in '{folder}' stores no calibration curve: a plan needs its exit rate and accuracy per threshold");
        var (shape, _) = split.CutSampleShape();
        long count = 1;
        foreach (long d in shape) count = checked(count * d);
        var zeros = new float[count];
        exit.Decide(zeros, shape);
        var times = new double[5];
        for (int i = 0; i < times.Length; i++) times[i] = exit.Decide(zeros, shape).ExitMs;
        Array.Sort(times);
        return new ExitOption(Path.GetFullPath(folder), exit.Manifest.Input, exit.Manifest.Calibration, times[times.Length / 2], exit.Manifest.Macs)
        {
            ExitSha256 = exit.Manifest.ExitSha256,
        };
    }
}
