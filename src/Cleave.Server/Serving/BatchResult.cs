namespace Cleave.Runtime.Serving;

/// <summary>
/// What one request's model runs produced, with the server-side times of its batch: <see cref="Tasks"/>[i] is task i's
/// answer (null for a task the request did not ask for), <see cref="TaskMs"/>[i] that task's run on the whole batch,
/// <see cref="TailMs"/> all the request's task runs together.
/// </summary>
internal sealed record BatchResult(TaskOutput?[] Tasks, double[] TaskMs, double QueueMs, double TailMs, int BatchSize)
{
    /// <summary>The answer of the lowest-numbered task asked for (the default task for a request that named none).</summary>
    public TaskOutput First => Array.Find(Tasks, t => t is not null) ?? new TaskOutput([], ReadOnlyMemory<byte>.Empty, 0);

    /// <summary>The best classes of <see cref="First"/>.</summary>
    public IReadOnlyList<(int Index, float Score)> Top => First.Top;

    /// <summary>The output frame of <see cref="First"/> (empty unless asked for or a tensor task).</summary>
    public ReadOnlyMemory<byte> OutputFrame => First.OutputFrame;

    /// <summary>The output length of <see cref="First"/>.</summary>
    public int OutputLength => First.OutputLength;
}
