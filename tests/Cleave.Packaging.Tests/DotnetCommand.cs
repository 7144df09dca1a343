using System.Diagnostics;
using System.Text;

namespace Cleave.Packaging.Tests;

/// <summary>
/// Runs the `dotnet` that runs these tests (pack, build, tool install, a built app) as a child process with a deadline,
/// capturing its output. The child gets no MSBuild node reuse or build servers, so nothing outlives a test, and none of
/// the MSBuild variables of the `dotnet test` that started this process.
/// </summary>
internal static class DotnetCommand
{
    public sealed record Result(int ExitCode, string Output, TimeSpan Elapsed)
    {
        public Result EnsureSuccess(string what)
        {
            if (ExitCode != 0) throw new Xunit.Sdk.XunitException($"{what} exited {ExitCode} after {Elapsed.TotalSeconds:F1} s:\n{Tail(Output)}");
            return this;
        }
    }

    /// <summary>The dotnet host: the SDK names it in DOTNET_HOST_PATH for the processes it starts; else the one on PATH.</summary>
    public static string Host => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path) ? path : "dotnet";

    public static async Task<Result> RunAsync(string workingDirectory, TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo(Host) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args) info.ArgumentList.Add(arg);
        foreach (string key in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
            info.Environment.Remove(key);
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";

        var output = new StringBuilder();
        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException($"dotnet {string.Join(' ', args)} did not finish in {timeout.TotalSeconds:F0} s:\n{Tail(output.ToString())}");
        }
        process.WaitForExit(); // drains the redirected streams
        lock (output) return new Result(process.ExitCode, output.ToString(), clock.Elapsed);
    }

    private static string Tail(string text) => text.Length <= 6000 ? text : "..." + text[^6000..];
}
