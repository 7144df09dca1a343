using Cleave.Models.Preprocessing;
using Cleave.Planning.Latency;
using Cleave.Planning.Planner;
using Cleave.Planning.Profiles;
using Cleave.Runtime.Links;

namespace Cleave.Planning.Serving;

/// <summary>One case of a multi-model check: a link and a latency threshold to plan for.</summary>
public sealed record ModelSearchCase(LinkProfile Link, double? ThresholdMs);

/// <summary>A multi-model choice, its prediction and what a real run of it measured.</summary>
public sealed record ModelSearchCheck(ModelSearchCase Case, string Chosen, string Model, LatencyBreakdown Predicted, RunSummary Measured)
{
    public double ErrorFraction => (Measured.MeanMs - Predicted.TotalMs) / Predicted.TotalMs;
}

/// <summary>
/// Predicted vs measured for the joint model x cut x codec search: each case is planned over the whole
/// <see cref="ModelSet"/>; the chosen configurations are then grouped by model, and each model's group runs as
/// <see cref="PlanBench.CheckPredictionsAsync"/> runs one model's: an in-process server on loopback hosting that
/// model's cuts and full mode, the chosen configurations fixed, in lockstep over their emulated links, with an
/// interleaved timing round before each request unless the device runs at its planned times.
/// </summary>
public static class ModelSearchBench
{
    public static async Task<IReadOnlyList<ModelSearchCheck>> CheckPredictionsAsync(ModelSet models, Hardware hardware, double maxDropPoints,
        PlanObjective objective, IReadOnlyList<ModelSearchCase> cases, IReadOnlyList<LabelledImage> images, int requests, string workDirectory,
        bool plannedDevice = false, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(cases);
        if (cases.Count == 0) throw new ArgumentException("no cases to check");
        ArgumentOutOfRangeException.ThrowIfLessThan(requests, 1);
        var all = models.Configurations(hardware);
        var chosen = cases.Select(c => SplitPlanner.Decide(all, new PlanRequest(c.Link, maxDropPoints, c.ThresholdMs, objective)).Chosen.Configuration).ToList();

        var checks = new ModelSearchCheck?[cases.Count];
        foreach (var group in Enumerable.Range(0, cases.Count).GroupBy(i => chosen[i].Model!))
        {
            var entry = models.Models.First(m => m.Name == group.Key);
            string modelPath = entry.Path ?? throw new ArgumentException($"the model '{entry.Name}' has no file to run");
            var profile = entry.Profile!;
            var own = ConfigurationBuilder.Build(profile, hardware);
            // A one-model plan per case whose only configuration to run is the multi-model choice (its model-local id).
            var plans = group.Select(i =>
            {
                string id = ModelSet.LocalId(chosen[i]);
                var decision = SplitPlanner.Decide(own, new PlanRequest(cases[i].Link, 100));
                return PlanDocument.From(decision, [own.First(c => c.Id == id)], profile, hardware) with { Chosen = id };
            }).ToList();
            string work = Path.Combine(workDirectory, PlanSplitFolders.FolderName(entry.Name));
            var folders = PlanSplitFolders.Write(Cleave.Models.Onnx.OnnxModel.Load(modelPath), Path.GetFileName(modelPath), plans.SelectMany(p => p.HostedSplits), work);
            var (decoded, full) = PlanBench.Load(modelPath, images);
            await using var server = await PlanBench.StartServerAsync(modelPath, folders).ConfigureAwait(false);
            using var timer = plannedDevice ? null : InterleavedTimer.ForProfile(profile, modelPath, decoded[0].Image);
            progress?.Invoke($"{entry.Name}: {string.Join(", ", group.Select(i => $"{Label(cases[i])} -> {ModelSet.LocalId(chosen[i])}"))}, {requests} requests each");
            var runs = group.Select((i, k) => new PlanBench.LockstepRun(Label(cases[i]), new PlanClientOptions
            {
                Server = server.Url, Plan = plans[k], SplitsDirectory = work, ModelPath = modelPath, EmulatedDeviceSpeed = hardware.DeviceSpeed,
                PlannedDeviceTimes = plannedDevice, Adaptive = false, LinkSeed = 1,
            }, [new LinkPhase(cases[i].Link, requests)])).ToList();
            var summaries = await PlanBench.RunLockstepAsync(runs, decoded, full, timer).ConfigureAwait(false);
            var inWindow = plannedDevice ? own : ConfigurationBuilder.Build(timer!.Apply(profile, mean: true), hardware);
            int n = 0;
            foreach (int i in group)
            {
                var local = inWindow.First(c => c.Id == ModelSet.LocalId(chosen[i]));
                checks[i] = new ModelSearchCheck(cases[i], chosen[i].Id, entry.Name, LatencyModel.Predict(local, cases[i].Link), summaries[n++]);
            }
        }
        return [.. checks.Select(c => c!)];
    }

    private static string Label(ModelSearchCase c) => c.ThresholdMs is double t ? FormattableString.Invariant($"{c.Link.Name} <= {t:0} ms") : c.Link.Name;
}
