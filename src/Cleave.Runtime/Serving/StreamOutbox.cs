using System.Threading.Channels;
using Cleave.Runtime.Protocol;
using Grpc.Core;

namespace Cleave.Runtime.Serving;

/// <summary>
/// One stream's replies on their way out. The gRPC stream writer takes one write at a time, so every reply is posted
/// here and one writer loop sends them. The queue is bounded by count and bytes: a client that sends but never reads
/// would otherwise make the server hold its pongs and answers forever. When a post does not fit, the stream is ended
/// with RESOURCE_EXHAUSTED through its <see cref="StreamGuard"/>.
/// </summary>
public sealed class StreamOutbox
{
    private readonly Channel<ServerMessage> _queue;
    private readonly long _maxBytes;
    private readonly int _maxMessages;
    private readonly StreamGuard _guard;
    private long _bytes;
    private volatile bool _closed;

    public StreamOutbox(int maxMessages, long maxBytes, StreamGuard guard)
    {
        ArgumentNullException.ThrowIfNull(guard);
        _maxMessages = maxMessages;
        _maxBytes = maxBytes;
        _guard = guard;
        _queue = Channel.CreateBounded<ServerMessage>(new BoundedChannelOptions(maxMessages)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails instead of dropping a reply silently
        });
    }

    /// <summary>Replies waiting to be sent (for tests and metrics).</summary>
    public int Count => _queue.Reader.Count;

    /// <summary>Queues a reply; false when the queue is full (the stream is then being ended) or already closed.</summary>
    public bool Post(ServerMessage message)
    {
        long size = message.CalculateSize();
        if (Interlocked.Add(ref _bytes, size) > _maxBytes || !_queue.Writer.TryWrite(message))
        {
            Interlocked.Add(ref _bytes, -size);
            if (!_closed)
                _guard.End(new Status(StatusCode.ResourceExhausted,
                    $"the client does not read its replies: {_queue.Reader.Count} replies ({Interlocked.Read(ref _bytes)} bytes) wait unsent, " +
                    $"the most one stream may hold is {_maxMessages} replies or {_maxBytes} bytes"));
            return false;
        }
        return true;
    }

    /// <summary>No more replies will be posted; the writer loop ends once the queue is empty.</summary>
    public void Complete()
    {
        _closed = true;
        _queue.Writer.TryComplete();
    }

    /// <summary>
    /// Sends replies until <see cref="Complete"/> and an empty queue. Stops sending (and drops what is left) once the
    /// client is gone or the guard ended the stream: a write blocked on a client that does not read is cancelled.
    /// </summary>
    public async Task WriteAllAsync(IServerStreamWriter<ServerMessage> stream, Action<long> sent, CancellationToken gone)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sent);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(gone, _guard.Token);
        await foreach (var message in _queue.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            int size = message.CalculateSize();
            Interlocked.Add(ref _bytes, -size);
            if (stop.IsCancellationRequested) continue; // drain: nobody will read it
            try
            {
                await stream.WriteAsync(message, stop.Token).ConfigureAwait(false);
                _guard.Touch();
                sent(size);
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or OperationCanceledException or RpcException)
            {
                // The call ended under us (client reset, or the guard ended it): the remaining replies have no reader.
            }
        }
    }
}
