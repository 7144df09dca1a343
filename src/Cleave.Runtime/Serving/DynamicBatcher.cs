using System.Collections.Concurrent;
using System.Diagnostics;
using Cleave.Runtime.Protocol;

namespace Cleave.Runtime.Serving;

/// <summary>
/// Groups requests from many clients into one model run: a batch closes when it holds <c>maxBatch</c> requests or
/// when its first request has waited <c>maxDelay</c>, whichever comes first. The queue is bounded:
/// <see cref="TryEnqueue"/> refuses instead of growing memory, and the caller answers RESOURCE_EXHAUSTED.
/// One dedicated thread runs the batches (ONNX Runtime parallelizes inside a run).
/// </summary>
public sealed class DynamicBatcher : IDisposable
{
    private readonly InferenceBackend _backend;
    private readonly BlockingCollection<BatchItem> _queue;
    private readonly ServerMetrics _metrics;
    private readonly Thread _worker;
    private readonly CancellationTokenSource _stop = new();
    private double _meanBatchMs = 10;

    public DynamicBatcher(InferenceBackend backend, int maxBatch, TimeSpan maxDelay, int queueCapacity, ServerMetrics metrics)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(queueCapacity, 1);
        _backend = backend;
        MaxBatch = maxBatch;
        MaxDelay = maxDelay < TimeSpan.Zero ? TimeSpan.Zero : maxDelay;
        QueueCapacity = queueCapacity;
        _metrics = metrics;
        _queue = new BlockingCollection<BatchItem>(new ConcurrentQueue<BatchItem>(), queueCapacity);
        _worker = new Thread(Run) { IsBackground = true, Name = $"cleave-batcher-{backend.Mode}" };
        _worker.Start();
    }

    public int MaxBatch { get; }
    public TimeSpan MaxDelay { get; }
    public int QueueCapacity { get; }
    public int Depth => _queue.Count;

    /// <summary>Queues the item, or returns false (and leaves it untouched) when the queue is full or closing.</summary>
    public bool TryEnqueue(BatchItem item)
    {
        try { return _queue.TryAdd(item); }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException) { return false; } // shutting down
    }

    /// <summary>How long a refused client should wait: about the time the queue ahead of it takes to drain.</summary>
    public uint RetryAfterMs()
    {
        double batches = Math.Ceiling((double)Math.Max(1, Depth) / MaxBatch);
        return (uint)Math.Clamp(batches * Volatile.Read(ref _meanBatchMs), 5, 5_000);
    }

    private void Run()
    {
        var batch = new List<BatchItem>(MaxBatch);
        var inputs = new List<float[]>(MaxBatch);
        try
        {
            while (true)
            {
                batch.Clear();
                inputs.Clear();
                if (!_queue.TryTake(out var first, Timeout.Infinite, _stop.Token)) break;
                batch.Add(first);
                long deadline = first.EnqueuedAt + (long)(MaxDelay.TotalSeconds * Stopwatch.Frequency);
                while (batch.Count < MaxBatch)
                {
                    long wait = deadline - Stopwatch.GetTimestamp();
                    int waitMs = wait <= 0 ? 0 : (int)Math.Ceiling(wait * 1000.0 / Stopwatch.Frequency);
                    if (!_queue.TryTake(out var next, waitMs, _stop.Token)) break;
                    batch.Add(next);
                }
                RunBatch(batch, inputs);
            }
        }
        catch (OperationCanceledException) { }
        catch (InvalidOperationException) { } // the collection was completed and drained
        var closing = new SplitInferenceException(ErrorCode.Unavailable, "the server is shutting down", 100);
        while (_queue.TryTake(out var left)) left.Fail(closing);
    }

    private void RunBatch(List<BatchItem> batch, List<float[]> inputs)
    {
        // Requests whose client has gone are not run: nobody would read the answer.
        for (int i = batch.Count - 1; i >= 0; i--)
            if (batch[i].Abandoned.IsCancellationRequested)
            {
                batch[i].Cancel();
                _metrics.Abandoned(_backend.Mode);
                batch.RemoveAt(i);
            }
        if (batch.Count == 0) return;

        // Each task asked for by anyone in the batch runs once, on the inputs of the requests that asked for it: the
        // one decoded feature of a request serves all its tasks.
        uint wanted = 0;
        foreach (var item in batch) wanted |= item.TaskMask;
        int tasks = _backend.Tasks.Count;
        var outputs = new float[]?[batch.Count][];
        for (int i = 0; i < batch.Count; i++) outputs[i] = new float[]?[tasks];
        var taskMs = new double[tasks];
        long start = Stopwatch.GetTimestamp();
        for (int task = 0; task < tasks; task++)
        {
            uint bit = 1u << task;
            if ((wanted & bit) == 0) continue;
            inputs.Clear();
            foreach (var item in batch)
                if ((item.TaskMask & bit) != 0) inputs.Add(item.Input);
            long taskStart = Stopwatch.GetTimestamp();
            float[][] results;
            try { results = _backend.RunBatch(inputs, task); }
            catch (Exception e)
            {
                var error = new SplitInferenceException(ErrorCode.Internal, $"the model of task '{_backend.Tasks[task].Name}' failed on a batch of {inputs.Count}: {e.Message}", 0, e);
                foreach (var item in batch) item.Fail(error);
                return;
            }
            taskMs[task] = Stopwatch.GetElapsedTime(taskStart).TotalMilliseconds;
            for (int i = 0, next = 0; i < batch.Count; i++)
                if ((batch[i].TaskMask & bit) != 0) outputs[i][task] = results[next++];
        }
        double tailMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        Volatile.Write(ref _meanBatchMs, 0.9 * _meanBatchMs + 0.1 * tailMs);
        _metrics.RecordBatch(_backend.Mode, batch.Count, tailMs / 1000);
        for (int i = 0; i < batch.Count; i++)
        {
            double queueMs = (start - batch[i].EnqueuedAt) * 1000.0 / Stopwatch.Frequency;
            double mine = 0;
            for (int task = 0; task < tasks; task++)
                if ((batch[i].TaskMask & (1u << task)) != 0) mine += taskMs[task];
            batch[i].Complete(new BatchResult(outputs[i], taskMs, queueMs, mine, batch.Count));
        }
    }

    public void Dispose()
    {
        _queue.CompleteAdding();
        _stop.Cancel();
        _worker.Join(TimeSpan.FromSeconds(10));
        _queue.Dispose();
        _stop.Dispose();
    }
}
