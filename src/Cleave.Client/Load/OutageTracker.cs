namespace Cleave.Runtime.Load;

/// <summary>
/// Times outages as the clients saw them: an outage starts at a try the transport lost (a broken or refused
/// connection, a try's timeout; not a server's typed refusal) while none is open, and ends at the next answer.
/// Thread-safe; times are seconds since the tracker was made.
/// </summary>
internal sealed class OutageTracker(TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly long _start = time.GetTimestamp();
    private readonly List<Outage> _outages = [];
    private double _openSince = double.NaN;

    // Answers are many and outages rare: a flag read without the lock keeps the answer path cheap.
    private volatile bool _open;

    public void Failed()
    {
        double now = Now();
        lock (_lock)
        {
            if (_open) return;
            _openSince = now;
            _open = true;
        }
    }

    public void Answered()
    {
        if (!_open) return;
        double now = Now();
        lock (_lock)
        {
            if (!_open) return;
            _outages.Add(new Outage(_openSince, now));
            _open = false;
        }
    }

    /// <summary>Outages so far; one still open (no answer since its first failure) ends at <paramref name="endSeconds"/>, unresolved.</summary>
    public IReadOnlyList<Outage> Outages(double endSeconds)
    {
        lock (_lock)
        {
            var all = new List<Outage>(_outages);
            if (_open) all.Add(new Outage(_openSince, endSeconds) { Resolved = false });
            return all;
        }
    }

    private double Now() => time.GetElapsedTime(_start).TotalSeconds;
}
