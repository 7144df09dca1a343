using System.Diagnostics;
using Cleave.Runtime.Serving;

namespace Cleave.Benchmarks;

/// <summary>
/// Does batching make the server's tail cheaper per sample on this machine? Loads a split folder with the server's own
/// <see cref="SplitTailBackend"/> and, in interleaved rounds, times 32 runs at batch 1 against 2 runs at batch 16 on the
/// same inputs (wall and process CPU time), then prints the median per-sample cost of each. Interleaving makes load from
/// other processes hit both sides alike. If batch 16 is not clearly cheaper per sample here, `serve --max-batch 16`
/// cannot beat `--max-batch 1` by much, whatever the network side does.
/// Run: dotnet run -c Release --project bench/Cleave.Benchmarks -- tail-batch SPLIT_DIR [threads] [rounds]
/// </summary>
internal static class TailBatchSweep
{
    private const int Samples = 32;
    private const int Batch = 16;

    public static void Run(string splitDirectory, int threads, int rounds)
    {
        using var backend = SplitTailBackend.Load(splitDirectory, threads);
        if (!backend.Batchable) throw new InvalidOperationException($"'{splitDirectory}' has a fixed batch of 1: nothing to compare");
        var random = new Random(1);
        var samples = new float[Samples][];
        for (int i = 0; i < Samples; i++)
        {
            samples[i] = new float[backend.SampleElements];
            for (int j = 0; j < samples[i].Length; j++) samples[i][j] = (float)(random.NextDouble() * 4 - 1);
        }
        var singles = new float[Samples][][];
        for (int i = 0; i < Samples; i++) singles[i] = [samples[i]];
        var batches = new[] { samples[..Batch], samples[Batch..] };

        void RunSingles() { foreach (var one in singles) backend.RunBatch(one); }
        void RunBatches() { foreach (var batch in batches) backend.RunBatch(batch); }
        for (int i = 0; i < 2; i++) { RunSingles(); RunBatches(); } // warm-up: allocations, thread pool, caches

        var singleWall = new double[rounds]; var singleCpu = new double[rounds];
        var batchWall = new double[rounds]; var batchCpu = new double[rounds];
        for (int round = 0; round < rounds; round++)
        {
            (singleWall[round], singleCpu[round]) = PerSampleMs(RunSingles);
            (batchWall[round], batchCpu[round]) = PerSampleMs(RunBatches);
        }
        Console.WriteLine($"{splitDirectory}: sample [{string.Join(",", backend.SampleShape)}], intra-op threads {(threads > 0 ? threads : "default")}, median of {rounds} rounds");
        Console.WriteLine($"  per-sample wall ms: batch 1 {Median(singleWall):F3}, batch {Batch} {Median(batchWall):F3} (batch 1 / batch {Batch} = {Median(singleWall) / Median(batchWall):F2})");
        Console.WriteLine($"  per-sample CPU ms:  batch 1 {Median(singleCpu):F3}, batch {Batch} {Median(batchCpu):F3} (batch 1 / batch {Batch} = {Median(singleCpu) / Median(batchCpu):F2})");
    }

    private static (double WallMs, double CpuMs) PerSampleMs(Action work)
    {
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        long start = Stopwatch.GetTimestamp();
        work();
        double wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        process.Refresh();
        return (wall / Samples, (process.TotalProcessorTime - cpuBefore).TotalMilliseconds / Samples);
    }

    private static double Median(double[] values)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        return sorted[sorted.Length / 2];
    }
}
