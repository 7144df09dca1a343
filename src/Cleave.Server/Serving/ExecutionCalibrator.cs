using System.Diagnostics;

namespace Cleave.Runtime.Serving;

/// <summary>
/// Picks an <see cref="ExecutionPlan"/> for this machine (<c>cleave serve --exec auto</c>): runs the model on synthetic
/// inputs of its own shape under each candidate plan (sessions x intra-op threads x batch size) with every stream busy,
/// as a loaded server would be, and keeps the plan with the most samples per second. Candidates are tried in
/// interleaved rounds, each scored by its best round, so load from other processes hits them alike and a round that
/// lost the CPU to someone else does not decide. Times are taken with <see cref="Stopwatch"/>: this measures the CPU,
/// which a fake clock cannot.
/// </summary>
public static class ExecutionCalibrator
{
    /// <summary>Calibrates <paramref name="backend"/>; <paramref name="settings"/> null means the defaults.</summary>
    public static ExecutionCalibration Calibrate(InferenceBackend backend, CalibrationSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        settings ??= new CalibrationSettings();
        settings.Validate();
        long started = Stopwatch.GetTimestamp();
        var candidates = Candidates(settings.Cores, backend.Batchable ? settings.Batches : [1]);
        int maxBatch = candidates.Max(c => c.MaxBatch);
        var random = new Random(1);
        // Sessions are shared between candidates with the same thread count (a stream bound for the largest batch runs
        // any smaller one), so loading stays a small part of the calibration.
        var pools = new Dictionary<int, List<SessionStream>>();
        try
        {
            foreach (var group in candidates.GroupBy(c => c.Threads))
            {
                var streams = new List<SessionStream>();
                pools[group.Key] = streams;
                for (int i = 0; i < group.Max(c => c.Streams); i++)
                {
                    var stream = backend.CreateStream(group.Key, maxBatch);
                    for (int slot = 0; slot < maxBatch; slot++)
                    {
                        var input = stream.InputSlot(slot);
                        for (int j = 0; j < input.Length; j++) input[j] = (float)(random.NextDouble() * 4 - 1);
                    }
                    streams.Add(stream);
                }
            }
            var best = new double[candidates.Count];
            for (int round = 0; round < settings.Rounds; round++)
                for (int i = 0; i < candidates.Count; i++)
                {
                    // Each round starts at another candidate, so none is always the one that runs right after loading.
                    int c = (i + round) % candidates.Count;
                    best[c] = Math.Max(best[c], SamplesPerSecond(pools[candidates[c].Threads], candidates[c], settings.Window));
                }
            var trials = candidates.Select((plan, i) => new CalibrationTrial(plan, best[i])).ToList();
            return new ExecutionCalibration(Choose(trials, settings.Tolerance), trials, Stopwatch.GetElapsedTime(started));
        }
        finally
        {
            foreach (var streams in pools.Values) foreach (var stream in streams) stream.Dispose();
        }
    }

    /// <summary>
    /// Sessions x threads that fill the cores (1 x P, 2 x P/2, ..., P x 1), each at every batch size. A batch above 1
    /// waits up to 2 ms for company (the server default); at batch 1 nothing waits.
    /// </summary>
    public static IReadOnlyList<ExecutionPlan> Candidates(int cores, IReadOnlyList<int> batches)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cores, 1);
        ArgumentNullException.ThrowIfNull(batches);
        var shapes = new List<(int Streams, int Threads)>();
        for (int streams = 1; streams <= cores; streams *= 2) shapes.Add((streams, cores / streams));
        if (!shapes.Exists(s => s.Streams == cores)) shapes.Add((cores, 1));
        var plans = new List<ExecutionPlan>();
        foreach (int batch in batches)
            foreach (var (streams, threads) in shapes)
                plans.Add(new ExecutionPlan
                {
                    Streams = Math.Min(streams, ExecutionPlan.MaxStreams),
                    Threads = Math.Min(threads, ExecutionPlan.MaxThreads),
                    MaxBatch = batch,
                    MaxDelay = batch > 1 ? TimeSpan.FromMilliseconds(2) : TimeSpan.Zero,
                });
        return plans;
    }

    /// <summary>
    /// The fastest plan, except that a simpler one (smaller batch: lower latency; then fewer sessions: less memory)
    /// within <paramref name="tolerance"/> of it is preferred, since calibration on a shared machine is noisy.
    /// </summary>
    public static ExecutionPlan Choose(IReadOnlyList<CalibrationTrial> trials, double tolerance)
    {
        ArgumentNullException.ThrowIfNull(trials);
        if (trials.Count == 0) throw new ArgumentException("no trials to choose from", nameof(trials));
        double fastest = trials.Max(t => t.SamplesPerSecond);
        return trials.Where(t => t.SamplesPerSecond >= fastest * (1 - tolerance))
            .OrderBy(t => t.Plan.MaxBatch).ThenBy(t => t.Plan.Streams).ThenByDescending(t => t.SamplesPerSecond)
            .First().Plan;
    }

    /// <summary>Every stream of the plan runs full batches on its own thread for the window; samples done per second.</summary>
    private static double SamplesPerSecond(List<SessionStream> pool, ExecutionPlan plan, TimeSpan window)
    {
        long samples = 0;
        var threads = new Thread[plan.Streams];
        long start = Stopwatch.GetTimestamp();
        long end = start + (long)(window.TotalSeconds * Stopwatch.Frequency);
        Exception? failure = null;
        for (int i = 0; i < threads.Length; i++)
        {
            var stream = pool[i];
            threads[i] = new Thread(() =>
            {
                try
                {
                    long done = 0;
                    do { stream.Run(plan.MaxBatch); done += plan.MaxBatch; } while (Stopwatch.GetTimestamp() < end);
                    Interlocked.Add(ref samples, done);
                }
                catch (Exception e) { Interlocked.CompareExchange(ref failure, e, null); }
            }) { IsBackground = true, Name = "cleave-calibration" };
            threads[i].Start();
        }
        foreach (var thread in threads) thread.Join();
        if (failure is not null) throw new InvalidOperationException($"the model failed during calibration: {failure.Message}", failure);
        return samples / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
