namespace Cleave.Planning.Planner;

/// <summary>
/// "Exit at threshold t" as planning configurations: for every split configuration at an exit's cut and every threshold
/// of the exit's stored curve at which anything exits, the same split with the exit. Expected bytes and server work are
/// (1 - exit rate) of the split's, latency mixes the device-only and the full path (<see cref="Latency.LatencyModel"/>),
/// and the accuracy is the split's minus the loss the curve records for the threshold (never exiting minus overall
/// accuracy on the curve's held-out images): the codec's and the exit's losses are taken as adding up.
/// </summary>
public static class ExitConfigurations
{
    /// <summary>The configurations with every exit configuration appended.</summary>
    /// <exception cref="ArgumentException">an exit reads a cut none of the configurations splits at</exception>
    public static IReadOnlyList<Configuration> Add(IReadOnlyList<Configuration> configurations, IReadOnlyList<ExitOption> exits, Hardware hardware)
    {
        ArgumentNullException.ThrowIfNull(configurations);
        ArgumentNullException.ThrowIfNull(exits);
        ArgumentNullException.ThrowIfNull(hardware);
        var list = new List<Configuration>(configurations);
        foreach (var exit in exits)
        {
            var splits = configurations.Where(c => c.Kind == ConfigurationKind.Split && c.ExitThreshold is null && c.Split == exit.Tensor).ToList();
            if (splits.Count == 0)
                throw new ArgumentException($"the exit in '{exit.Folder}' reads '{exit.Tensor}', which the profile does not cut: add it to --splits");
            var curve = exit.Curve;
            foreach (var point in curve.Points.Where(p => p.Exited > 0 && p.Threshold <= 1))
            {
                double loss = curve.FullAccuracy - point.Accuracy;
                foreach (var c in splits)
                {
                    // The curve's images are not the profile's: a loss larger than the split's own top-1 floors the top-1
                    // at 0 (the drop, which the budget is judged on, keeps the whole loss).
                    list.Add(c with
                    {
                        Id = Configuration.ExitId(c.Id, point.Threshold), ExitThreshold = point.Threshold, ExitRate = point.ExitRate,
                        ExitMs = hardware.Device(exit.ExitMs), Top1 = Math.Max(0, c.Top1 - loss), DropPoints = c.DropPoints + 100 * loss,
                        Agreement = c.Agreement * point.Agreement, ExitFolder = exit.Folder,
                        ExitSha256 = exit.ExitSha256.Length > 0 ? exit.ExitSha256 : null,
                    });
                }
            }
        }
        return list;
    }
}
