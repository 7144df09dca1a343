using System.Collections.Concurrent;
using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Models.Preprocessing;
using Cleave.Runtime.Protocol;

namespace Cleave.Runtime.Serving;

/// <summary>
/// Groups requests from many clients into model runs: a batch closes when it holds <c>MaxBatch</c> requests or when its
/// first request has waited <c>MaxDelay</c>, whichever comes first. The queue is bounded: <see cref="TryEnqueue"/>
/// refuses instead of growing memory, and the caller answers RESOURCE_EXHAUSTED. <see cref="ExecutionPlan.Streams"/>
/// worker threads take batches from the one queue, each running them on its own <see cref="SessionStream"/>: inputs
/// are copied from the requests' pooled buffers into the stream's bound input, and each answer is built from the
/// stream's output slot, so a batch allocates nothing in proportion to the tensors.
/// </summary>
internal sealed class DynamicBatcher : IDisposable
{
    private readonly InferenceBackend _backend;
    private readonly BlockingCollection<BatchItem> _queue;
    private readonly ServerMetrics _metrics;
    private readonly SessionStream[] _streams;
    private readonly Thread[] _workers;
    private readonly CancellationTokenSource _stop = new();
    private double _meanBatchMs = 10;

    public DynamicBatcher(InferenceBackend backend, int maxBatch, TimeSpan maxDelay, int queueCapacity, ServerMetrics metrics)
        : this(backend, new ExecutionPlan { MaxBatch = maxBatch, MaxDelay = maxDelay < TimeSpan.Zero ? TimeSpan.Zero : maxDelay }, queueCapacity, metrics)
    {
    }

    public DynamicBatcher(InferenceBackend backend, ExecutionPlan plan, int queueCapacity, ServerMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(plan);
        plan.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(queueCapacity, 1);
        _backend = backend;
        Plan = plan;
        QueueCapacity = queueCapacity;
        _metrics = metrics;
        _queue = new BlockingCollection<BatchItem>(new ConcurrentQueue<BatchItem>(), queueCapacity);
        _streams = new SessionStream[plan.Streams];
        try
        {
            for (int i = 0; i < _streams.Length; i++) _streams[i] = backend.CreateStream(plan.Threads, plan.MaxBatch);
        }
        catch
        {
            foreach (var stream in _streams) stream?.Dispose();
            throw;
        }
        _workers = new Thread[plan.Streams];
        for (int i = 0; i < _workers.Length; i++)
        {
            var stream = _streams[i];
            _workers[i] = new Thread(() => Run(stream)) { IsBackground = true, Name = $"cleave-batcher-{backend.Mode}-{i}" };
            _workers[i].Start();
        }
    }

    public ExecutionPlan Plan { get; }
    public int MaxBatch => Plan.MaxBatch;
    public TimeSpan MaxDelay => Plan.MaxDelay;
    public int QueueCapacity { get; }
    public int Depth => _queue.Count;

    /// <summary>Model outputs per sample (learned when the sessions were made).</summary>
    public int OutputElements => _streams[0].OutputElements;

    /// <summary>Queues the item, or returns false (and leaves it untouched) when the queue is full or closing.</summary>
    public bool TryEnqueue(BatchItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        item.MarkEnqueued();
        try { return _queue.TryAdd(item); }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException) { return false; } // shutting down
    }

    /// <summary>How long a refused client should wait: about the time the queue ahead of it takes to drain on all streams.</summary>
    public uint RetryAfterMs()
    {
        double batches = Math.Ceiling((double)Math.Max(1, Depth) / MaxBatch / _streams.Length);
        return (uint)Math.Clamp(batches * Volatile.Read(ref _meanBatchMs), 5, 5_000);
    }

    private void Run(SessionStream stream)
    {
        var batch = new List<BatchItem>(MaxBatch);
        try
        {
            while (true)
            {
                batch.Clear();
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
                RunBatch(stream, batch);
            }
        }
        catch (OperationCanceledException) { }
        catch (InvalidOperationException) { } // the collection was completed and drained
        var closing = new SplitInferenceException(ErrorCode.Unavailable, "the server is shutting down", 100);
        foreach (var item in batch) item.Fail(closing); // a batch cut short by the stop (no-op for items already answered)
        while (_queue.TryTake(out var left)) left.Fail(closing);
    }

    private void RunBatch(SessionStream stream, List<BatchItem> batch)
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
        // one decoded feature of a request (in the stream's input slots) serves all its tasks. The default task runs on
        // the stream's bound buffers and its answers are read straight from the output slots; the other tasks run the
        // simple way, on their own sessions.
        uint wanted = 0;
        foreach (var item in batch) wanted |= item.TaskMask;
        int tasks = _backend.Tasks.Count;
        var answers = new TaskOutput?[batch.Count][];
        for (int i = 0; i < batch.Count; i++) answers[i] = new TaskOutput?[tasks];
        var taskMs = new double[tasks];
        long start = Stopwatch.GetTimestamp();
        int running = 0;
        try
        {
            for (int i = 0; i < batch.Count; i++)
            {
                batch[i].Input.CopyTo(stream.InputSlot(i));
                batch[i].ReleaseInput();
            }
            if ((wanted & 1u) != 0)
            {
                stream.Run(batch.Count);
                taskMs[0] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                for (int i = 0; i < batch.Count; i++)
                    if ((batch[i].TaskMask & 1u) != 0) answers[i][0] = Answer(stream.OutputSlot(i), batch[i], _backend.Tasks[0].Kind);
            }
            for (running = 1; running < tasks; running++)
            {
                uint bit = 1u << running;
                if ((wanted & bit) == 0) continue;
                var inputs = new List<float[]>(batch.Count);
                for (int i = 0; i < batch.Count; i++)
                    if ((batch[i].TaskMask & bit) != 0) inputs.Add(stream.InputSlot(i).ToArray());
                long taskStart = Stopwatch.GetTimestamp();
                float[][] results = _backend.RunBatch(inputs, running);
                taskMs[running] = Stopwatch.GetElapsedTime(taskStart).TotalMilliseconds;
                for (int i = 0, next = 0; i < batch.Count; i++)
                    if ((batch[i].TaskMask & bit) != 0) answers[i][running] = Answer(results[next++], batch[i], _backend.Tasks[running].Kind);
            }
        }
        catch (Exception e)
        {
            var error = new SplitInferenceException(ErrorCode.Internal,
                $"the model of task '{_backend.Tasks[Math.Min(running, tasks - 1)].Name}' failed on a batch of {batch.Count}: {e.Message}", 0, e);
            foreach (var item in batch) item.Fail(error);
            return;
        }
        double tailMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        double mean = Volatile.Read(ref _meanBatchMs);
        Volatile.Write(ref _meanBatchMs, 0.9 * mean + 0.1 * tailMs);
        _metrics.RecordBatch(_backend.Mode, batch.Count, tailMs / 1000);
        for (int i = 0; i < batch.Count; i++)
        {
            var item = batch[i];
            double queueMs = (start - item.EnqueuedAt) * 1000.0 / Stopwatch.Frequency;
            double mine = 0;
            for (int task = 0; task < tasks; task++)
                if ((item.TaskMask & (1u << task)) != 0) mine += taskMs[task];
            item.Complete(new BatchResult(answers[i], taskMs, queueMs, mine, batch.Count));
        }
    }

    /// <summary>One task's answer for <paramref name="item"/>, read from <paramref name="output"/> before the next run overwrites it.</summary>
    private static TaskOutput Answer(ReadOnlySpan<float> output, BatchItem item, string kind)
    {
        bool tensor = kind == Cleave.Models.Splitting.SplitTask.TensorKind;
        (int Index, float Score)[] top = tensor ? [] : Top(output, Math.Min(item.TopK, output.Length));
        var frame = item.ReturnOutput || tensor ? RawFrame(output) : ReadOnlyMemory<byte>.Empty;
        return new TaskOutput(top, frame, output.Length);
    }

    /// <summary>The best classes, read from the output slot before the next run overwrites it.</summary>
    private static (int Index, float Score)[] Top(ReadOnlySpan<float> output, int k)
    {
        int[] best = ImageNetSample.TopK(output, k);
        var top = new (int, float)[best.Length];
        for (int i = 0; i < best.Length; i++) top[i] = (best[i], output[best[i]]);
        return top;
    }

    private static byte[] RawFrame(ReadOnlySpan<float> output) => RawCodec.Instance.Encode(output, new TensorShape(1, output.Length));

    public void Dispose()
    {
        _queue.CompleteAdding();
        _stop.Cancel();
        foreach (var worker in _workers) worker.Join(TimeSpan.FromSeconds(10));
        foreach (var stream in _streams)
            if (!_workers.Any(w => w.IsAlive)) stream.Dispose(); // a worker stuck in a run keeps its session
        _queue.Dispose();
        _stop.Dispose();
    }
}
