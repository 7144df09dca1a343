using System.Threading.Channels;
using Cleave.Runtime.Protocol;
using Grpc.Core;

namespace Cleave.Runtime.Serving;

/// <summary>
/// One stream's replies on their way out. The gRPC stream writer takes one write at a time, so every reply is posted
/// here and one writer loop sends them. The queue is bounded by count and bytes: a client that sends but never reads
/// would otherwise make the server hold its pongs and answers forever. A post that does not fit waits (and so does
/// whoever posts: the stream's reader stops reading, its requests stop being answered); a queue that stays full for
/// <c>stallTimeout</c> ends the stream with RESOURCE_EXHAUSTED through its <see cref="StreamGuard"/>.
/// </summary>
internal sealed class StreamOutbox
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    private readonly Channel<ServerMessage> _queue = Channel.CreateUnbounded<ServerMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private readonly int _maxMessages;
    private readonly long _maxBytes;
    private readonly TimeSpan _stallTimeout;
    private readonly StreamGuard _guard;
    private readonly TimeProvider _clock;
    private int _count;
    private long _bytes;
    private bool _closed;

    public StreamOutbox(int maxMessages, long maxBytes, TimeSpan stallTimeout, StreamGuard guard, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(guard);
        ArgumentNullException.ThrowIfNull(clock);
        _maxMessages = maxMessages;
        _maxBytes = maxBytes;
        _stallTimeout = stallTimeout;
        _guard = guard;
        _clock = clock;
    }

    /// <summary>Replies waiting to be sent.</summary>
    public int Count
    {
        get { lock (_gate) return _count; }
    }

    /// <summary>
    /// Queues a reply, waiting while the queue is full. False when it was not queued: the stream is being ended
    /// (the queue stayed full too long, the guard ended it for another reason, or <paramref name="cancel"/>).
    /// </summary>
    public async ValueTask<bool> PostAsync(ServerMessage message, CancellationToken cancel)
    {
        long size = message.CalculateSize();
        long start = _clock.GetTimestamp();
        while (true)
        {
            lock (_gate)
            {
                if (_closed || _guard.Token.IsCancellationRequested) return false;
                // One reply bigger than the byte bound still goes out alone, or it could never be sent.
                if (_count == 0 || (_count < _maxMessages && _bytes + size <= _maxBytes))
                {
                    _count++;
                    _bytes += size;
                    _queue.Writer.TryWrite(message); // unbounded underneath: the bounds are the ones above
                    return true;
                }
            }
            if (_clock.GetElapsedTime(start) >= _stallTimeout)
            {
                _guard.End(new Status(StatusCode.ResourceExhausted,
                    $"the client does not read its replies: {Count} replies wait unsent and none was taken for {_stallTimeout.TotalSeconds:0.###} s " +
                    $"(a stream may leave at most {_maxMessages} replies or {_maxBytes} bytes unread)"));
                return false;
            }
            try { await Task.Delay(PollInterval, _clock, cancel).ConfigureAwait(false); }
            catch (OperationCanceledException) { return false; }
        }
    }

    /// <summary>No more replies will be posted; the writer loop ends once the queue is empty.</summary>
    public void Complete()
    {
        lock (_gate) _closed = true;
        _queue.Writer.TryComplete();
    }

    /// <summary>
    /// Sends replies until <see cref="Complete"/> and an empty queue; once the client is gone or the guard ended the
    /// stream, what is left is dropped unsent. A write blocked on a client that does not read stays blocked until the
    /// client reads or the stream is reset (the service resets it, see <see cref="SplitInferenceService"/>).
    /// </summary>
    public async Task WriteAllAsync(IServerStreamWriter<ServerMessage> stream, Action<long> sent, CancellationToken gone)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sent);
        await foreach (var message in _queue.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            int size = message.CalculateSize();
            try
            {
                if (gone.IsCancellationRequested || _guard.Token.IsCancellationRequested) continue; // nobody will read it
                await stream.WriteAsync(message, gone).ConfigureAwait(false);
                _guard.Touch();
                sent(size);
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or OperationCanceledException or RpcException)
            {
                // The call ended under us (client reset): the remaining replies have no reader.
            }
            finally
            {
                lock (_gate)
                {
                    _count--;
                    _bytes -= size;
                }
            }
        }
    }
}
