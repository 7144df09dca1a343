namespace Cleave.Runtime.Serving;

/// <summary>
/// What one request's model runs produced, with the server-side times of its batch: <see cref="Outputs"/>[i] is task i's
/// output (null for a task the request did not ask for), <see cref="TaskMs"/>[i] that task's run on the whole batch,
/// <see cref="TailMs"/> all the request's task runs together.
/// </summary>
public sealed record BatchResult(float[]?[] Outputs, double[] TaskMs, double QueueMs, double TailMs, int BatchSize)
{
    /// <summary>The output of the lowest-numbered task asked for (the default task for a request that named none).</summary>
    public float[] Output => Array.Find(Outputs, o => o is not null) ?? [];
}
