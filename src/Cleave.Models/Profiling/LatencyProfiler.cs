using System.Diagnostics;
using Cleave.Models.Splitting;

namespace Cleave.Models.Profiling;

/// <summary>Median latencies of a split's halves on this machine (ONNX Runtime, CPU).</summary>
public sealed record SplitLatency(double HeadMilliseconds, double TailMilliseconds);

/// <summary>
/// Measures head and tail latency: one untimed warm-up run each, then the median of <c>runs</c> timed runs. The
/// tail is fed the head's real outputs, so data-dependent kernels behave as in use.
/// </summary>
public static class LatencyProfiler
{
    public static SplitLatency Measure(SplitModels split, IReadOnlyDictionary<string, HostTensor> inputs, int runs = 5, int intraOpThreads = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        using var head = new OrtModelRunner(split.Head.ToBytes(), intraOpThreads);
        using var tail = new OrtModelRunner(split.Tail.ToBytes(), intraOpThreads);
        var headInputs = SplitVerifier.Subset(inputs, split.Plan.HeadInputs);
        var tailInputs = SplitVerifier.TailFeeds(split.Plan, head.Run(headInputs), inputs);
        double headMs = Median(() => head.Run(headInputs), runs);
        double tailMs = Median(() => tail.Run(tailInputs), runs);
        return new SplitLatency(headMs, tailMs);
    }

    /// <summary>Median latency of the whole model, for comparison with the halves.</summary>
    public static double MeasureModel(byte[] model, IReadOnlyDictionary<string, HostTensor> inputs, int runs = 5, int intraOpThreads = 0)
    {
        using var runner = new OrtModelRunner(model, intraOpThreads);
        runner.Run(inputs);
        return Median(() => runner.Run(inputs), runs);
    }

    private static double Median(Action run, int runs)
    {
        run(); // warm-up: first runs allocate arenas and pick kernels
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return runs % 2 == 1 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2;
    }
}
