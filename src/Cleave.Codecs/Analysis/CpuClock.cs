using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Cleave.Codecs.Analysis;

/// <summary>
/// CPU time used by the calling thread or the whole process (Linux <c>clock_gettime</c>): what work really costs,
/// unlike wall time, which on a busy machine also counts the time a thread waited for a core. Where the clocks are
/// unavailable it falls back to wall time.
/// </summary>
public static partial class CpuClock
{
    private const int ClockProcessCpuTimeId = 2;
    private const int ClockThreadCpuTimeId = 3;
    private static readonly bool Available = OperatingSystem.IsLinux() && Probe();

    /// <summary>Seconds of CPU this thread has used (or wall seconds where that clock is unavailable).</summary>
    public static double ThreadSeconds() => Read(ClockThreadCpuTimeId);

    /// <summary>Seconds of CPU all threads of this process have used (or wall seconds where that clock is unavailable).</summary>
    public static double ProcessSeconds() => Read(ClockProcessCpuTimeId);

    private static double Read(int clock)
    {
        if (Available && clock_gettime(clock, out var t) == 0) return t.Seconds + t.Nanoseconds * 1e-9;
        return Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
    }

    private static bool Probe()
    {
        try { return clock_gettime(ClockThreadCpuTimeId, out _) == 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int clock_gettime(int clock, out TimeSpec time);
}
