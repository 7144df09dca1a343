using System.Diagnostics;

namespace Cleave.Cli.Tests;

/// <summary>The linux-arm64 <c>cleave</c> run as a separate process under <c>qemu-aarch64</c>, with a deadline.</summary>
public static class Arm64Cleave
{
    public const string ProgramVariable = "CLEAVE_ARM64_CLEAVE";
    public const string SkipReasonVariable = "CLEAVE_ARM64_SKIP";

    /// <summary>The published arm64 program (an ELF for aarch64), or null.</summary>
    public static string? Program => Environment.GetEnvironmentVariable(ProgramVariable) is { Length: > 0 } p ? p : null;

    /// <summary>qemu-aarch64 on PATH, or null.</summary>
    public static string? Emulator { get; } = FindOnPath("qemu-aarch64");

    /// <summary>Why the arm64 program cannot run here, or null when it can.</summary>
    public static string? Unavailable()
    {
        if (Program is not { } program)
            return Environment.GetEnvironmentVariable(SkipReasonVariable) is { Length: > 0 } reason
                ? $"no linux-arm64 cleave: {reason}"
                : $"no linux-arm64 cleave: {ProgramVariable} is not set (.ci/arm64-client publishes one and prints its path)";
        if (!File.Exists(program)) return $"{ProgramVariable} names '{program}', which does not exist";
        if (Emulator is null) return "qemu-aarch64 is not on PATH (.ci/qemu-arm64 installs Debian's qemu-user and the arm64 libraries)";
        return null;
    }

    /// <summary>Runs the arm64 program with <paramref name="args"/>; kills it and fails when it outlives <paramref name="deadline"/>.</summary>
    public static async Task<(int ExitCode, string Out, string Err)> RunAsync(IReadOnlyList<string> args, TimeSpan deadline)
    {
        var start = new ProcessStartInfo(Emulator ?? throw new InvalidOperationException(Unavailable()))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.ArgumentList.Add(Program!);
        foreach (string a in args) start.ArgumentList.Add(a);
        // The JIT's write-xor-execute double mapping costs much more under user-mode emulation (every code write remaps).
        start.Environment["DOTNET_EnableWriteXorExecute"] = "0";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("qemu-aarch64 did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"the arm64 cleave {string.Join(' ', args)} did not finish within {deadline.TotalSeconds:F0} s; stderr: {await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);
}
