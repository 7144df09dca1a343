namespace Cleave.Runtime.Serving;

/// <summary>
/// What one task's model produced for one request, read from the output before the next run overwrites it: its best
/// classes (index, score; best first; empty for a tensor task), the output as a raw frame when the request asked for it
/// or the task answers a tensor (else empty), and the output's length.
/// </summary>
public sealed record TaskOutput(IReadOnlyList<(int Index, float Score)> Top, ReadOnlyMemory<byte> OutputFrame, int OutputLength);
