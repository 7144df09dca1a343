using Cleave.Codecs.Analysis;

namespace Cleave.Runtime.Serving;

/// <summary>
/// CPU time consumed by the calling thread (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>, a vDSO call): what decoding a
/// frame really costs, unlike wall time, which on a busy machine also counts the time the thread was preempted.
/// Elsewhere it falls back to wall time. (<see cref="CpuClock"/> in Cleave.Codecs reads the clock.)
/// </summary>
internal static class ThreadCpuClock
{
    /// <summary>Seconds of CPU this thread has used (or wall seconds where that clock is unavailable).</summary>
    public static double NowSeconds() => CpuClock.ThreadSeconds();
}
