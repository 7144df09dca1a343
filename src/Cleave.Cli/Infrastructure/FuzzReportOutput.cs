using Cleave.Codecs.Analysis.Fuzzing;

namespace Cleave.Cli.Infrastructure;

/// <summary>Prints a <see cref="FuzzReport"/> as a table or as JSON (the <c>attack fuzz-*</c> verbs).</summary>
public static class FuzzReportOutput
{
    public static int Print(FuzzReport report, bool json)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (json)
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("campaign", report.Campaign);
                w.WriteNumber("cases", report.Cases);
                w.WriteNumber("elapsed_s", Math.Round(report.ElapsedSeconds, 1));
                w.WriteBoolean("passed", report.Passed);
                w.WriteNumber("unexpected", report.UnexpectedCount);
                w.WriteNumber("median_case_ms", report.MedianCaseMs);
                w.WriteNumber("p999_case_ms", report.P999CaseMs);
                w.WriteNumber("max_case_ms", report.MaxCaseMs);
                w.WriteNumber("p999_case_cpu_ms", report.P999CaseCpuMs);
                w.WriteNumber("max_case_cpu_ms", report.MaxCaseCpuMs);
                w.WriteNumber("case_limit_ms", report.CaseLimitMs);
                w.WriteNumber("cases_over_time_limit", report.CasesOverTimeLimit);
                w.WriteNumber("max_allocated_bytes", report.MaxAllocatedBytes);
                w.WriteNumber("allocation_limit_bytes", report.AllocationLimitBytes);
                w.WriteNumber("cases_over_allocation_limit", report.CasesOverAllocationLimit);
                w.WriteString("slowest_case", report.SlowestCase);
                w.WriteString("hungriest_case", report.HungriestCase);
                w.WriteStartObject("outcomes");
                foreach (var (outcome, count) in report.Outcomes) w.WriteNumber(outcome, count);
                w.WriteEndObject();
                w.WriteStartArray("unexpected_samples");
                foreach (string sample in report.UnexpectedSamples) w.WriteStringValue(sample);
                w.WriteEndArray();
                w.WriteEndObject();
            });
        else
        {
            Console.WriteLine($"{report.Campaign}: {report.Cases:N0} cases in {report.ElapsedSeconds:0.0} s — {(report.Passed ? "PASSED" : "FAILED")}");
            foreach (var (outcome, count) in report.Outcomes) Console.WriteLine($"  {outcome,-28} {count,10:N0}");
            Console.WriteLine($"  case time: median {report.MedianCaseMs:0.###} ms, p99.9 {report.P999CaseMs:0.###} ms, max {report.MaxCaseMs:0.###} ms ({report.CasesOverTimeLimit} over {report.CaseLimitMs} ms)");
            Console.WriteLine($"  case CPU time: p99.9 {report.P999CaseCpuMs:0.###} ms, max {report.MaxCaseCpuMs:0.###} ms");
            Console.WriteLine($"  slowest: {report.SlowestCase}");
            Console.WriteLine($"  allocation: max {report.MaxAllocatedBytes:N0} B in one case, limit {report.AllocationLimitBytes:N0} B ({report.CasesOverAllocationLimit} over)");
            Console.WriteLine($"  hungriest: {report.HungriestCase}");
            foreach (string sample in report.UnexpectedSamples) Console.WriteLine($"  UNEXPECTED {sample}");
        }
        return report.Passed ? 0 : 1;
    }
}
