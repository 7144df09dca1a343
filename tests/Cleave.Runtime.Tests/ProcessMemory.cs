using System.Diagnostics;

namespace Cleave.Runtime.Tests;

/// <summary>
/// This process's resident memory (the servers under test run in it): managed heap and native allocations alike,
/// read after a full collection so garbage that is merely uncollected does not count.
/// </summary>
public static class ProcessMemory
{
    public static long ResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }

    public static string Mib(long bytes) => $"{bytes / (1024.0 * 1024):0.0} MiB";
}
