namespace Cleave.Codecs.Analysis.Fuzzing;

/// <summary>
/// What a fuzz campaign found: how each case ended, the cases that ended in an exception type the code under test
/// must never throw, and the worst cost of one case (wall time, CPU time, and bytes allocated while it ran) against the
/// limits. The time limit is judged on wall time; CPU time tells work from waiting for a core on a loaded machine.
/// </summary>
public sealed record FuzzReport(
    string Campaign,
    int Cases,
    double ElapsedSeconds,
    IReadOnlyDictionary<string, int> Outcomes,
    int UnexpectedCount,
    IReadOnlyList<string> UnexpectedSamples,
    double MedianCaseMs,
    double P999CaseMs,
    double MaxCaseMs,
    string SlowestCase,
    double P999CaseCpuMs,
    double MaxCaseCpuMs,
    double CaseLimitMs,
    int CasesOverTimeLimit,
    long MaxAllocatedBytes,
    string HungriestCase,
    long AllocationLimitBytes,
    int CasesOverAllocationLimit)
{
    /// <summary>No unexpected exception type, no case over the time limit, none over the allocation limit.</summary>
    public bool Passed => UnexpectedCount == 0 && CasesOverTimeLimit == 0 && CasesOverAllocationLimit == 0;
}
