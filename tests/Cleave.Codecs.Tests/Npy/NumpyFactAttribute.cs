using System.Diagnostics;

namespace Cleave.Codecs.Tests.Npy;

/// <summary>
/// A fact that needs <c>python3</c> with NumPy: skipped, with the reason shown, when either is missing
/// (xunit v2 has no run-time skip, so the check runs when the attribute is built; nothing is ever installed).
/// </summary>
public sealed class NumpyFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> MissingReason = new(FindMissingReason);

    public NumpyFactAttribute()
    {
        if (MissingReason.Value is { } reason) Skip = reason;
    }

    /// <summary>Runs python3 with the given arguments; returns exit code and combined output.</summary>
    public static (int ExitCode, string Output) RunPython(params string[] arguments)
    {
        var start = new ProcessStartInfo("python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start");
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill();
            throw new TimeoutException("python3 ran for more than 60 s");
        }
        return (process.ExitCode, stdout + stderr.Result);
    }

    private static string? FindMissingReason()
    {
        try
        {
            (int exitCode, _) = RunPython("-c", "import numpy");
            return exitCode == 0 ? null : "python3 is present but cannot import numpy";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "python3 is not installed";
        }
    }
}
