using System.Diagnostics;

namespace Cleave.Cli.Infrastructure;

/// <summary>
/// Progress of long work on standard error: a redrawn line on a terminal, one line per step when redirected (so logs
/// stay readable), never on standard output (which holds results and JSON).
/// </summary>
public sealed class Progress(string task, int total) : IDisposable
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _terminal = !Console.IsErrorRedirected;

    public void Report(int done, string current)
    {
        string line = $"{task}: [{done + 1}/{total}] {current} ({_clock.Elapsed.TotalSeconds:F0}s)";
        if (_terminal) Console.Error.Write("\r" + line.PadRight(Math.Min(Console.WindowWidth - 1, 100)));
        else Console.Error.WriteLine(line);
    }

    public void Dispose()
    {
        if (_terminal) Console.Error.Write("\r" + new string(' ', Math.Min(Console.WindowWidth - 1, 100)) + "\r");
        else Console.Error.WriteLine($"{task}: done in {_clock.Elapsed.TotalSeconds:F1}s");
    }
}
