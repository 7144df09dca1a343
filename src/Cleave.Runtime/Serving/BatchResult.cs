namespace Cleave.Runtime.Serving;

/// <summary>What one request's model run produced, with the server-side times of its batch.</summary>
public sealed record BatchResult(float[] Output, double QueueMs, double TailMs, int BatchSize);
