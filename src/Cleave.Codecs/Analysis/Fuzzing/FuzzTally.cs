using System.Diagnostics;

namespace Cleave.Codecs.Analysis.Fuzzing;

/// <summary>Where a campaign's per-case allocation and CPU time are counted.</summary>
public enum AllocationScope
{
    /// <summary><see cref="GC.GetAllocatedBytesForCurrentThread"/>: the case runs on the calling thread only.</summary>
    CurrentThread,

    /// <summary><see cref="GC.GetTotalAllocatedBytes"/> (precise): the case hands work to other threads; cases run one at a time.</summary>
    Process,
}

/// <summary>
/// Runs fuzz cases one at a time and keeps the score: each case's outcome, its wall time, its CPU time (which, unlike
/// wall time, a busy machine does not inflate) and the bytes allocated while it ran. A case names its outcome (the typed error it ended in); an exception that escapes it is classified by the
/// campaign's <c>expected</c> function, and one it does not recognise counts as unexpected.
/// </summary>
public sealed class FuzzTally(string campaign, int cases, double caseLimitMs, long allocationLimitBytes, AllocationScope scope)
{
    private const int MaxSamples = 20;

    private readonly float[] _caseMs = new float[Math.Max(0, cases)];
    private readonly float[] _caseCpuMs = new float[Math.Max(0, cases)];
    private readonly Dictionary<string, int> _outcomes = new(StringComparer.Ordinal);
    private readonly List<string> _unexpected = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _count, _unexpectedCount, _overTime, _overAllocation;
    private double _maxMs;
    private long _maxAllocated;
    private string _slowest = "", _hungriest = "";

    public int Count => _count;

    /// <summary>Runs one case. <paramref name="describe"/> is called only for a case worth reporting (unexpected, slowest, hungriest).</summary>
    public void Run(Func<string> body, Func<Exception, string?> expected, Func<string> describe)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(describe);
        if (_count >= _caseMs.Length) throw new InvalidOperationException($"the tally was sized for {_caseMs.Length} cases");
        long allocatedBefore = Allocated();
        double cpuBefore = Cpu();
        long start = Stopwatch.GetTimestamp();
        string outcome;
        Exception? surprise = null;
        try
        {
            outcome = body();
        }
        catch (Exception e)
        {
            string? known = expected(e);
            if (known is null) surprise = e;
            outcome = known ?? "UNEXPECTED " + e.GetType().Name;
        }
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        double cpuMs = (Cpu() - cpuBefore) * 1000;
        long allocated = Allocated() - allocatedBefore;

        _caseCpuMs[_count] = (float)cpuMs;
        _caseMs[_count++] = (float)ms;
        _outcomes[outcome] = _outcomes.GetValueOrDefault(outcome) + 1;
        if (surprise is not null)
        {
            _unexpectedCount++;
            if (_unexpected.Count < MaxSamples) _unexpected.Add($"{surprise.GetType().Name}: {surprise.Message} (at {FirstFrame(surprise)}) for {describe()}");
        }
        if (ms > caseLimitMs) _overTime++;
        if (allocated > allocationLimitBytes) _overAllocation++;
        if (ms > _maxMs) { _maxMs = ms; _slowest = $"{outcome}: {describe()}"; }
        if (allocated > _maxAllocated) { _maxAllocated = allocated; _hungriest = $"{outcome}: {describe()}"; }
    }

    public FuzzReport Finish()
    {
        var times = _caseMs.AsSpan(0, _count).ToArray();
        Array.Sort(times);
        var cpu = _caseCpuMs.AsSpan(0, _count).ToArray();
        Array.Sort(cpu);
        return new FuzzReport(campaign, _count, _clock.Elapsed.TotalSeconds,
            _outcomes.OrderByDescending(o => o.Value).ToDictionary(o => o.Key, o => o.Value, StringComparer.Ordinal),
            _unexpectedCount, _unexpected, Quantile(times, 0.5), Quantile(times, 0.999), _maxMs, _slowest,
            Quantile(cpu, 0.999), cpu.Length == 0 ? 0 : cpu[^1],
            caseLimitMs, _overTime, _maxAllocated, _hungriest, allocationLimitBytes, _overAllocation);
    }

    private double Cpu() => scope == AllocationScope.CurrentThread ? CpuClock.ThreadSeconds() : CpuClock.ProcessSeconds();

    private long Allocated() => scope == AllocationScope.CurrentThread ? GC.GetAllocatedBytesForCurrentThread() : GC.GetTotalAllocatedBytes(precise: true);

    private static double Quantile(float[] sorted, double q) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static string FirstFrame(Exception e) =>
        e.StackTrace?.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "no stack";
}
