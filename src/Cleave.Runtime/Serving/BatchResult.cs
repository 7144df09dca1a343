namespace Cleave.Runtime.Serving;

/// <summary>
/// What one request's model run produced: its best classes (index, score; best first), the output tensor as a raw frame
/// when the request asked for it (else empty), the output's length, and the server-side times of its batch.
/// </summary>
public sealed record BatchResult(IReadOnlyList<(int Index, float Score)> Top, ReadOnlyMemory<byte> OutputFrame, int OutputLength, double QueueMs, double TailMs, int BatchSize);
