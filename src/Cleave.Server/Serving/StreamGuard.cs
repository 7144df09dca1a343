using Grpc.Core;

namespace Cleave.Runtime.Serving;

/// <summary>
/// Ends one stream on the server's initiative, with a typed status: when no Hello arrives within the Hello deadline,
/// when a handshaken stream stays idle past the idle timeout (nothing received, no reply taken, nothing of its own in
/// flight), or when <see cref="End"/> is called (its reply queue overflowed). <see cref="Token"/> is cancelled then;
/// the first reason given wins and is <see cref="Status"/>.
/// </summary>
internal sealed class StreamGuard : IDisposable
{
    private readonly TimeProvider _clock;
    private readonly TimeSpan _idleTimeout;
    private readonly Func<bool> _busy;
    private readonly CancellationTokenSource _end = new();
    private readonly ITimer _timer;
    private long _lastActivity;
    private TimeSpan _deadline;
    private bool _handshaken;
    private Status? _status;

    /// <param name="busy">True while the stream has work of its own in the server (requests being answered): never idle then.</param>
    public StreamGuard(TimeProvider clock, TimeSpan helloTimeout, TimeSpan idleTimeout, Func<bool> busy)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(busy);
        _clock = clock;
        _idleTimeout = idleTimeout;
        _busy = busy;
        _deadline = helloTimeout;
        _lastActivity = clock.GetTimestamp();
        // Checked a few times per deadline: a stream ends at most an eighth of the deadline (and at most 1 s) late.
        var shortest = helloTimeout < idleTimeout ? helloTimeout : idleTimeout;
        var period = TimeSpan.FromTicks(Math.Clamp(shortest.Ticks / 8, TimeSpan.FromMilliseconds(20).Ticks, TimeSpan.FromSeconds(1).Ticks));
        _timer = clock.CreateTimer(_ => Check(), null, period, period);
    }

    public CancellationToken Token => _end.Token;

    /// <summary>Why the server ended the stream, or null while it has not.</summary>
    public Status? Status
    {
        get { lock (_end) return _status; }
    }

    /// <summary>The stream did something (a message in, a reply out): the idle clock starts again.</summary>
    public void Touch() => Volatile.Write(ref _lastActivity, _clock.GetTimestamp());

    /// <summary>The Hello arrived: from now on the idle timeout applies instead of the Hello deadline.</summary>
    public void Handshaken()
    {
        lock (_end)
        {
            _handshaken = true;
            _deadline = _idleTimeout;
        }
        Touch();
    }

    /// <summary>Ends the stream with <paramref name="status"/> unless it was already ended for another reason.</summary>
    public void End(Status status)
    {
        lock (_end)
        {
            if (_status is not null) return;
            _status = status;
        }
        _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _end.Cancel();
    }

    private void Check()
    {
        bool handshaken;
        TimeSpan deadline;
        lock (_end)
        {
            if (_status is not null) return;
            handshaken = _handshaken;
            deadline = _deadline;
        }
        if (handshaken && _busy())
        {
            Touch();
            return;
        }
        if (_clock.GetElapsedTime(Volatile.Read(ref _lastActivity)) < deadline) return;
        End(handshaken
            ? new Status(StatusCode.DeadlineExceeded, $"the stream was idle for {deadline.TotalSeconds:0.###} s (no message sent, no reply read); open a new stream")
            : new Status(StatusCode.DeadlineExceeded, $"no Hello within {deadline.TotalSeconds:0.###} s of opening the stream"));
    }

    public void Dispose()
    {
        _timer.Dispose();
        _end.Dispose();
    }
}
