using Cleave.Planning.Profiles;
using Cleave.Runtime.Links;

namespace Cleave.Planning.Planner;

/// <summary>One cell of a sweep: the planner's choice for a link and a device speed.</summary>
public sealed record SweepCell(string Link, double DeviceSpeed, double ServerSpeed, string Chosen, double PredictedMs, double DropPoints, double BytesMean, bool Feasible);

/// <summary>The planner's choice over every preset link and a range of device speeds: how the choice moves with the link.</summary>
public static class LinkSweep
{
    public static IReadOnlyList<double> DefaultDeviceSpeeds { get; } = [1, 0.25, 0.05];

    public static IReadOnlyList<SweepCell> Run(PlanningProfile profile, IReadOnlyList<LinkProfile> links, IReadOnlyList<double> deviceSpeeds,
        double serverSpeed, double maxDropPoints, double? sloMs, PlanObjective objective)
    {
        var cells = new List<SweepCell>();
        foreach (double speed in deviceSpeeds)
        {
            var configurations = ConfigurationBuilder.Build(profile, new Hardware(speed, serverSpeed));
            foreach (var link in links)
            {
                var d = SplitPlanner.Decide(configurations, new PlanRequest(link, maxDropPoints, sloMs, objective));
                var c = d.Chosen.Configuration;
                cells.Add(new SweepCell(link.Name, speed, serverSpeed, c.Id, d.Chosen.Latency.TotalMs, c.DropPoints, c.ExpectedBytes, d.Feasible));
            }
        }
        return cells;
    }
}
