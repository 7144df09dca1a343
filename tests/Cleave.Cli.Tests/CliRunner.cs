namespace Cleave.Cli.Tests;

/// <summary>Runs the real `cleave` entry point in-process and captures what it prints.</summary>
public static class CliRunner
{
    private static readonly object Gate = new();

    /// <summary>What <paramref name="action"/> writes to standard error (for CLI infrastructure used directly).</summary>
    public static string CaptureStderr(Action action)
    {
        lock (Gate)
        {
            var stderr = new StringWriter();
            var oldErr = Console.Error;
            Console.SetError(stderr);
            try { action(); }
            finally { Console.SetError(oldErr); }
            return stderr.ToString();
        }
    }

    public static (int ExitCode, string Out, string Err) Run(params string[] args)
    {
        // Console redirection is process-wide: one command at a time.
        lock (Gate)
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var (oldOut, oldErr) = (Console.Out, Console.Error);
            Console.SetOut(stdout);
            Console.SetError(stderr);
            try
            {
                var entry = typeof(Cleave.Cli.Commands.VersionCommand).Assembly.EntryPoint!;
                int code = (int)entry.Invoke(null, [args])!;
                return (code, stdout.ToString(), stderr.ToString());
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldErr);
            }
        }
    }
}

/// <summary>A fresh temporary folder per test, removed afterwards.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("cleave-test-").FullName;
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}
