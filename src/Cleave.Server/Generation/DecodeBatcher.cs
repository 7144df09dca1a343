using System.Threading.Channels;

namespace Cleave.Runtime.Generation;

/// <summary>
/// Runs the server's work items (steps, resumes) on a fixed set of worker threads: whatever is queued runs as soon as
/// a worker is free, up to one per core. Without batched decoding each step is one item (one ONNX Runtime call);
/// with it, <see cref="GenerationEngine"/> queues one drain item per decode step, and the first drain to run takes
/// every decode step queued by then as one padded batch. docs/llm.md has the measurements.
/// </summary>
internal sealed class DecodeBatcher : IDisposable
{
    private readonly Channel<WorkItem> _queue = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Thread[] _workers;
    private int _running, _peak;
    private long _completed;

    public DecodeBatcher(int workers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        _workers = new Thread[workers];
        for (int i = 0; i < workers; i++)
        {
            _workers[i] = new Thread(WorkLoop) { IsBackground = true, Name = $"cleave-decode-{i}" };
            _workers[i].Start();
        }
    }

    public int Workers => _workers.Length;
    public int Running => Volatile.Read(ref _running);
    public int PeakRunning => Volatile.Read(ref _peak);
    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Queues <paramref name="work"/>; it receives how many steps were running when it started (itself included).</summary>
    public Task<T> RunAsync<T>(Func<int, T> work)
    {
        var item = new WorkItem<T>(work);
        if (!_queue.Writer.TryWrite(item)) throw new ObjectDisposedException(nameof(DecodeBatcher));
        return item.Completion.Task;
    }

    private void WorkLoop()
    {
        var reader = _queue.Reader;
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            while (reader.TryRead(out var item))
            {
                int running = Interlocked.Increment(ref _running);
                int peak;
                while (running > (peak = Volatile.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, running, peak) != peak) { }
                try
                {
                    item.Execute(running);
                }
                finally
                {
                    Interlocked.Decrement(ref _running);
                    Interlocked.Increment(ref _completed);
                }
            }
        }
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        foreach (var worker in _workers) worker.Join(TimeSpan.FromSeconds(5));
    }

    private abstract class WorkItem
    {
        public abstract void Execute(int running);
    }

    private sealed class WorkItem<T>(Func<int, T> work) : WorkItem
    {
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Execute(int running)
        {
            try
            {
                Completion.SetResult(work(running));
            }
            catch (Exception e)
            {
                Completion.SetException(e);
            }
        }
    }
}
