using System.Buffers;
using System.Diagnostics;

namespace Cleave.Runtime.Serving;

/// <summary>
/// One prepared request waiting in a <see cref="DynamicBatcher"/>'s queue: its decoded input in a buffer rented from the
/// shared array pool (given back once the batcher has copied it into its bound input, or when the item ends unrun), and
/// what the answer should hold, so the batcher builds it straight from the model's output slot.
/// </summary>
internal sealed class BatchItem
{
    private readonly TaskCompletionSource<BatchResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private float[]? _input;
    private readonly int _length;

    /// <summary>
    /// An item whose input is <paramref name="length"/> values to be written into <see cref="Input"/> before it is
    /// queued, asking for the tasks in <paramref name="taskMask"/> (bit 0, the default task, when none is named).
    /// </summary>
    public BatchItem(int length, CancellationToken abandoned, int topK = 5, bool returnOutput = false, uint taskMask = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfZero(taskMask);
        _length = length;
        _input = ArrayPool<float>.Shared.Rent(Math.Max(length, 1));
        Abandoned = abandoned;
        TopK = Math.Max(topK, 0);
        ReturnOutput = returnOutput;
        TaskMask = taskMask;
        EnqueuedAt = Stopwatch.GetTimestamp();
    }

    /// <summary>The input's pooled buffer (exactly the sample's length); invalid once <see cref="ReleaseInput"/> ran.</summary>
    public Span<float> Input => (_input ?? throw new InvalidOperationException("the input was already handed back to the pool")).AsSpan(0, _length);

    /// <summary>How many best classes the answer lists.</summary>
    public int TopK { get; }

    /// <summary>Whether the answer carries the whole output tensor (as a raw frame).</summary>
    public bool ReturnOutput { get; }

    /// <summary>Which of the backend's tasks to run on <see cref="Input"/>: bit i is <see cref="InferenceBackend.Tasks"/>[i] (bit 0, the default task, when none is named).</summary>
    public uint TaskMask { get; }

    /// <summary>Cancelled when the client that sent the request has gone: the batcher then skips the item.</summary>
    public CancellationToken Abandoned { get; }

    public long EnqueuedAt { get; private set; }

    public Task<BatchResult> Completion => _completion.Task;

    /// <summary>Restarts the queue clock (the input was decoded after the item was made).</summary>
    internal void MarkEnqueued() => EnqueuedAt = Stopwatch.GetTimestamp();

    /// <summary>Gives the input buffer back to the pool; safe to call more than once.</summary>
    public void ReleaseInput()
    {
        if (Interlocked.Exchange(ref _input, null) is { } buffer) ArrayPool<float>.Shared.Return(buffer);
    }

    internal void Complete(BatchResult result)
    {
        ReleaseInput();
        _completion.TrySetResult(result);
    }

    internal void Fail(Exception error)
    {
        ReleaseInput();
        _completion.TrySetException(error);
    }

    internal void Cancel()
    {
        ReleaseInput();
        _completion.TrySetCanceled(Abandoned);
    }
}
