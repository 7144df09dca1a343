namespace Cleave.Cli.Infrastructure;

/// <summary>
/// Progress of long work on standard error, never on standard output (which holds results and JSON): on a terminal
/// one line redrawn in place; redirected (a log file, CI), a line every few seconds rather than one per image, so
/// a thousand-image run leaves a readable log. The closing line appears only when the last step was reached, so a
/// run that fails part-way never says it finished.
/// </summary>
public sealed class Progress : IDisposable
{
    /// <summary>How often a redirected run writes a line.</summary>
    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(5);

    // A terminal redraw costs little, but hundreds a second still flicker and slow a fast loop.
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);

    private readonly string _task;
    private readonly int _total;
    private readonly bool _terminal;
    private readonly TimeProvider _time;
    private readonly long _start;
    private long _lastWrite;
    private int _lastDone = -1;
    private int _width;

    public Progress(string task, int total) : this(task, total, !Console.IsErrorRedirected, TimeProvider.System) { }

    /// <param name="terminal">Redraw one line with \r (true) or write a line every <see cref="LogInterval"/> (false).</param>
    public Progress(string task, int total, bool terminal, TimeProvider time)
    {
        _task = task;
        _total = total;
        _terminal = terminal;
        _time = time;
        _start = time.GetTimestamp();
    }

    /// <summary>Step <paramref name="done"/> (0-based) of the total is starting; <paramref name="current"/> names it.</summary>
    public void Report(int done, string current)
    {
        long now = _time.GetTimestamp();
        bool first = _lastDone < 0, last = done + 1 >= _total;
        _lastDone = done;
        var sinceWrite = _time.GetElapsedTime(_lastWrite, now);
        if (!first && !last && sinceWrite < (_terminal ? RedrawInterval : LogInterval)) return;
        if (!_terminal && last && !first && sinceWrite < LogInterval) return; // the closing line follows
        _lastWrite = now;
        string line = $"{_task}: [{done + 1}/{_total}] {current} ({_time.GetElapsedTime(_start, now).TotalSeconds:F0}s)";
        if (_terminal)
        {
            // Pad over the previous, possibly longer, line instead of asking the terminal its width (not every one answers).
            Console.Error.Write("\r" + line.PadRight(_width));
            _width = Math.Max(_width, line.Length);
        }
        else Console.Error.WriteLine(line);
    }

    public void Dispose()
    {
        if (_terminal && _width > 0) Console.Error.Write("\r" + new string(' ', _width) + "\r");
        if (_lastDone + 1 >= _total && _lastDone >= 0)
            Console.Error.WriteLine($"{_task}: {_total}/{_total} in {_time.GetElapsedTime(_start).TotalSeconds:F1}s");
    }
}
