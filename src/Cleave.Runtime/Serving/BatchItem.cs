using System.Diagnostics;

namespace Cleave.Runtime.Serving;

/// <summary>One prepared request waiting in a <see cref="DynamicBatcher"/>'s queue.</summary>
public sealed class BatchItem
{
    private readonly TaskCompletionSource<BatchResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public BatchItem(float[] input, CancellationToken abandoned, uint taskMask = 1)
    {
        ArgumentOutOfRangeException.ThrowIfZero(taskMask);
        Input = input;
        Abandoned = abandoned;
        TaskMask = taskMask;
        EnqueuedAt = Stopwatch.GetTimestamp();
    }

    public float[] Input { get; }

    /// <summary>Which of the backend's tasks to run on <see cref="Input"/>: bit i is <see cref="InferenceBackend.Tasks"/>[i] (bit 0, the default task, when none is named).</summary>
    public uint TaskMask { get; }

    /// <summary>Cancelled when the client that sent the request has gone: the batcher then skips the item.</summary>
    public CancellationToken Abandoned { get; }

    public long EnqueuedAt { get; }

    public Task<BatchResult> Completion => _completion.Task;

    internal void Complete(BatchResult result) => _completion.TrySetResult(result);

    internal void Fail(Exception error) => _completion.TrySetException(error);

    internal void Cancel() => _completion.TrySetCanceled(Abandoned);
}
