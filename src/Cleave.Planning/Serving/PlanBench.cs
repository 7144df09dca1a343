using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Planning.Adaptation;
using Cleave.Planning.Latency;
using Cleave.Planning.Planner;
using Cleave.Planning.Profiles;
using Cleave.Runtime.Links;
using Cleave.Runtime.Serving;

namespace Cleave.Planning.Serving;

/// <summary>A stretch of a run on one emulated link.</summary>
public sealed record LinkPhase(LinkProfile Link, int Requests);

/// <summary>What one client run measured: mean / median / p95 end-to-end latency, top-1 over its images, switches and probes.</summary>
public sealed record RunSummary(string Label, int Requests, double MeanMs, double P50Ms, double P95Ms, double Top1, double FullTop1,
    IReadOnlyList<PlanRequestResult> Results, IReadOnlyList<SwitchEvent> Switches, int Probes)
{
    /// <summary>Mean latency per phase, in order.</summary>
    public IReadOnlyList<double> PhaseMeans(IReadOnlyList<LinkPhase> phases)
    {
        var means = new List<double>();
        int at = 0;
        foreach (var p in phases)
        {
            means.Add(Results.Skip(at).Take(p.Requests).Average(r => r.TotalMs));
            at += p.Requests;
        }
        return means;
    }
}

/// <summary>Predicted against measured: the plan's prediction for its choice on a link, and what a real run of that choice measured there.</summary>
public sealed record PredictionCheck(string Link, string Chosen, LatencyBreakdown Predicted, RunSummary Measured)
{
    public double ErrorFraction => (Measured.MeanMs - Predicted.TotalMs) / Predicted.TotalMs;
}

/// <summary>
/// Runs plans for real on this machine: an in-process server on a loopback port (hosting every cut the plans
/// need, plus full mode, no batching), a <see cref="PlanClient"/> over the emulated link, decoded images cycled
/// through. Used for predicted-vs-measured checks and for adaptive runs against fixed configurations.
/// </summary>
public static class PlanBench
{
    public static async Task<SplitServer> StartServerAsync(string modelPath, IReadOnlyList<string> splitFolders)
    {
        return await SplitServer.StartAsync(new SplitServerOptions
        {
            SplitDirectory = splitFolders.Count > 0 ? splitFolders[0] : null,
            MoreSplitDirectories = [.. splitFolders.Skip(1)],
            FullModelPath = modelPath,
            Port = 0,
            // One client, one request at a time: a batching delay would only add latency the plan does not model.
            MaxBatch = 1,
            MaxDelay = TimeSpan.Zero,
            Threads = 1, // as the profile was timed
        }).ConfigureAwait(false);
    }

    /// <summary>One client to run in lockstep with others: its options, its own link schedule, its label.</summary>
    public sealed record LockstepRun(string Label, PlanClientOptions Options, IReadOnlyList<LinkPhase> Schedule);

    /// <summary>
    /// Runs several clients in lockstep: request i of every run goes out back to back (same image, each over its own
    /// schedule's link at i), optionally after one <see cref="InterleavedTimer"/> round. On a shared machine every run
    /// and the timer then see the same load, so their numbers compare even while the load drifts. Each client is
    /// warmed up first. Every schedule must hold the same number of requests.
    /// </summary>
    public static async Task<IReadOnlyList<RunSummary>> RunLockstepAsync(IReadOnlyList<LockstepRun> runs, IReadOnlyList<(RgbImage Image, int Label)> images,
        IReadOnlyList<int>? fullModelTop1 = null, InterleavedTimer? timer = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count == 0) throw new ArgumentException("no runs");
        if (images.Count == 0) throw new ArgumentException("no images to run");
        int total = runs[0].Schedule.Sum(p => p.Requests);
        if (runs.Any(r => r.Schedule.Sum(p => p.Requests) != total)) throw new ArgumentException("lockstep runs need schedules of the same length");
        var clients = new List<PlanClient>();
        try
        {
            foreach (var run in runs)
            {
                var client = await PlanClient.CreateAsync(run.Options with { Link = run.Schedule[0].Link }).ConfigureAwait(false);
                clients.Add(client);
                await client.WarmUpAsync(images[0].Image, cancellationToken).ConfigureAwait(false);
            }
            timer?.Round(); // warm-up round
            var results = runs.Select(_ => new PlanRequestResult[total]).ToArray();
            var order = Enumerable.Range(0, runs.Count).ToArray();
            var shuffle = new Random(12345);
            for (int i = 0; i < total; i++)
            {
                timer?.Round();
                var (image, _) = images[i % images.Count];
                // A new order each round: whoever runs right after the timer (cold caches) changes every time.
                shuffle.Shuffle(order);
                foreach (int k in order)
                {
                    clients[k].Link = LinkAt(runs[k].Schedule, i);
                    results[k][i] = await clients[k].InferAsync(image, cancellationToken).ConfigureAwait(false);
                }
            }
            var summaries = new List<RunSummary>();
            for (int k = 0; k < runs.Count; k++)
            {
                int correct = 0, fullCorrect = 0;
                for (int i = 0; i < total; i++)
                {
                    int truth = images[i % images.Count].Label;
                    if (results[k][i].Top1 == truth) correct++;
                    if (fullModelTop1 is not null && fullModelTop1[i % images.Count] == truth) fullCorrect++;
                }
                var sorted = results[k].Select(r => r.TotalMs).Order().ToArray();
                summaries.Add(new RunSummary(runs[k].Label, total, sorted.Average(), sorted[sorted.Length / 2],
                    sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(0.95 * sorted.Length) - 1)], (double)correct / total,
                    fullModelTop1 is null ? double.NaN : (double)fullCorrect / total, results[k], clients[k].Selector.Switches, clients[k].Probes));
            }
            return summaries;
        }
        finally
        {
            foreach (var c in clients) await c.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static LinkProfile LinkAt(IReadOnlyList<LinkPhase> schedule, int request)
    {
        foreach (var phase in schedule)
        {
            if (request < phase.Requests) return phase.Link;
            request -= phase.Requests;
        }
        return schedule[^1].Link;
    }

    /// <summary>Decodes the images once and labels them with the model's output index; also the unsplit model's top-1 per image.</summary>
    public static (IReadOnlyList<(RgbImage Image, int Label)> Images, IReadOnlyList<int> FullTop1) Load(string modelPath, IReadOnlyList<LabelledImage> images)
    {
        using var session = new ImageModelSession(modelPath);
        var decoded = new List<(RgbImage, int)>();
        var full = new List<int>();
        foreach (var i in images)
        {
            var image = RgbImage.Load(i.Path);
            var scores = session.Run(image);
            decoded.Add((image, ImageNetSample.OutputIndex(i.ClassIndex, scores.Length)));
            full.Add(ImageNetSample.TopK(scores, 1)[0]);
        }
        return (decoded, full);
    }

    /// <summary>
    /// For each link: plan for it and run the chosen configuration there (no adaptation), all links in lockstep with
    /// a timing round of the profile's compute before each request; the prediction for each choice is then made from
    /// the mean in-window timings (a shared machine's load moves between calibration and the run) and compared with
    /// the mean measured latency. The device is emulated at the planned device speed.
    /// </summary>
    public static async Task<IReadOnlyList<PredictionCheck>> CheckPredictionsAsync(PlanningProfile profile, string modelPath, Hardware hardware,
        PlanRequest budgets, IReadOnlyList<LinkProfile> links, IReadOnlyList<LabelledImage> images, int requests, string workDirectory,
        bool plannedDevice = false, Action<string>? progress = null)
    {
        var configurations = ConfigurationBuilder.Build(profile, hardware);
        var plans = links.Select(l => PlanFor(profile, configurations, budgets with { Link = l }, hardware)).ToList();
        var folders = WriteSplits(modelPath, plans, workDirectory);
        var (decoded, full) = Load(modelPath, images);
        await using var server = await StartServerAsync(modelPath, folders).ConfigureAwait(false);
        using var timer = plannedDevice ? null : InterleavedTimer.ForProfile(profile, modelPath, decoded[0].Image);
        progress?.Invoke($"running {string.Join(", ", plans.Select(p => $"{p.Link.Name}: {p.Chosen}"))} in lockstep, {requests} requests each");
        var runs = plans.Select(p => new LockstepRun(p.Link.Name, new PlanClientOptions
        {
            Server = server.Url, Plan = p, SplitsDirectory = workDirectory, ModelPath = modelPath,
            EmulatedDeviceSpeed = hardware.DeviceSpeed, PlannedDeviceTimes = plannedDevice, Adaptive = false, LinkSeed = 1,
        }, [new LinkPhase(p.Link.ToProfile(), requests)])).ToList();
        var summaries = await RunLockstepAsync(runs, decoded, full, timer).ConfigureAwait(false);
        // With planned device times the device runs exactly as planned: the plan's own prediction is what is checked.
        var inWindow = plannedDevice ? configurations : ConfigurationBuilder.Build(timer!.Apply(profile, mean: true), hardware);
        return [.. plans.Select((p, k) => new PredictionCheck(p.Link.Name, p.Chosen,
            LatencyModel.Predict(inWindow.First(c => c.Id == p.Chosen), p.Link.ToProfile()), summaries[k]))];
    }

    /// <summary>
    /// Plans for the first phase's link, then runs the same images over the whole schedule adaptively and with each
    /// of the plan's adaptive configurations fixed, all in lockstep; the adaptive run comes first in the result.
    /// </summary>
    public static async Task<(PlanDocument Plan, IReadOnlyList<RunSummary> Runs)> CompareAdaptiveAsync(PlanningProfile profile, string modelPath, Hardware hardware,
        PlanRequest budgets, IReadOnlyList<LinkPhase> schedule, IReadOnlyList<LabelledImage> images, string workDirectory, bool plannedDevice = false,
        Action<string>? progress = null)
    {
        var configurations = ConfigurationBuilder.Build(profile, hardware);
        var plan = PlanFor(profile, configurations, budgets with { Link = schedule[0].Link }, hardware);
        var folders = WriteSplits(modelPath, [plan], workDirectory);
        var (decoded, full) = Load(modelPath, images);
        await using var server = await StartServerAsync(modelPath, folders).ConfigureAwait(false);
        var options = new PlanClientOptions
        {
            Server = server.Url, Plan = plan, SplitsDirectory = workDirectory, ModelPath = modelPath, EmulatedDeviceSpeed = hardware.DeviceSpeed, PlannedDeviceTimes = plannedDevice, LinkSeed = 1,
        };
        var runs = new List<LockstepRun> { new("adaptive", options, schedule) };
        runs.AddRange(plan.Adaptive.Select(id => new LockstepRun(id, options with { Adaptive = false, Fixed = id }, schedule)));
        progress?.Invoke($"adaptive and {plan.Adaptive.Count} fixed runs in lockstep over {schedule.Sum(p => p.Requests)} requests");
        return (plan, await RunLockstepAsync(runs, decoded, full).ConfigureAwait(false));
    }

    private static PlanDocument PlanFor(PlanningProfile profile, IReadOnlyList<Configuration> configurations, PlanRequest request, Hardware hardware)
    {
        var decision = SplitPlanner.Decide(configurations, request);
        return PlanDocument.From(decision, SplitPlanner.AdaptiveSet(configurations, decision), profile, hardware);
    }

    private static IReadOnlyList<string> WriteSplits(string modelPath, IReadOnlyList<PlanDocument> plans, string directory) =>
        PlanSplitFolders.Write(OnnxModel.Load(modelPath), Path.GetFileName(modelPath), plans.SelectMany(p => p.HostedSplits), directory);
}
