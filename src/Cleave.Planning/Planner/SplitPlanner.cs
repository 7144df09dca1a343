using System.Globalization;
using Cleave.Planning.Latency;
using Cleave.Runtime.Links;

namespace Cleave.Planning.Planner;

/// <summary>One configuration evaluated on one link: its predicted latency and whether it meets each budget.</summary>
public sealed record EvaluatedConfiguration(Configuration Configuration, LatencyBreakdown Latency, bool MeetsAccuracy, bool MeetsSlo, bool Pareto)
{
    public bool Feasible => MeetsAccuracy && MeetsSlo;
}

/// <summary>
/// The planner's answer: the chosen configuration (the best feasible one, or when none is feasible the fastest one
/// within the accuracy budget, flagged), every candidate evaluated, and a sentence on the binding constraint.
/// </summary>
public sealed record PlanDecision(PlanRequest Request, EvaluatedConfiguration Chosen, bool Feasible, string Explanation,
    IReadOnlyList<EvaluatedConfiguration> Candidates)
{
    /// <summary>Candidates no other beats on both predicted latency and accuracy drop, fastest first.</summary>
    public IReadOnlyList<EvaluatedConfiguration> ParetoFront => [.. Candidates.Where(c => c.Pareto).OrderBy(c => c.Latency.TotalMs)];
}

/// <summary>Evaluates split x codec candidates (and full local / full offload) under a link and budgets, and picks one.</summary>
public static class SplitPlanner
{
    public static PlanDecision Decide(IReadOnlyList<Configuration> configurations, PlanRequest request)
    {
        ArgumentNullException.ThrowIfNull(configurations);
        ArgumentNullException.ThrowIfNull(request);
        if (configurations.Count == 0) throw new ArgumentException("there are no configurations to choose from");
        if (!(request.MaxDropPoints >= 0)) throw new ArgumentOutOfRangeException(nameof(request), request.MaxDropPoints, "the accuracy budget (max drop, points) must be >= 0");
        if (request.SloMs is double slo && !(slo > 0)) throw new ArgumentOutOfRangeException(nameof(request), slo, "the latency SLO must be positive");

        var predicted = configurations.Select(c => LatencyModel.Predict(c, request.Link)).ToList();
        var evaluated = new List<EvaluatedConfiguration>(configurations.Count);
        for (int i = 0; i < configurations.Count; i++)
        {
            var c = configurations[i];
            bool dominated = false;
            for (int j = 0; j < configurations.Count && !dominated; j++)
            {
                if (i == j) continue;
                double ti = predicted[i].TotalMs, tj = predicted[j].TotalMs, di = c.DropPoints, dj = configurations[j].DropPoints;
                dominated = tj <= ti && dj <= di && (tj < ti || dj < di);
            }
            evaluated.Add(new EvaluatedConfiguration(c, predicted[i], c.DropPoints <= request.MaxDropPoints + 1e-9,
                request.SloMs is not double s || predicted[i].TotalMs <= s, !dominated));
        }

        var feasible = evaluated.Where(e => e.Feasible).ToList();
        if (feasible.Count > 0)
        {
            var best = Best(feasible, request.Objective);
            return new PlanDecision(request, best, true, Why(best, request, feasible.Count, evaluated.Count), evaluated);
        }
        // Full local has no drop, so something always meets the accuracy budget: the SLO is what binds.
        var accurate = evaluated.Where(e => e.MeetsAccuracy).ToList();
        var fallback = accurate.Count > 0 ? Best(accurate, PlanObjective.Latency) : evaluated.MinBy(e => e.Configuration.DropPoints)!;
        return new PlanDecision(request, fallback, false, WhyNot(fallback, request, evaluated), evaluated);
    }

    private static EvaluatedConfiguration Best(List<EvaluatedConfiguration> options, PlanObjective objective) => objective switch
    {
        PlanObjective.ServerTime => options.OrderBy(e => e.Configuration.ServerTotalMs).ThenBy(e => e.Latency.TotalMs).First(),
        PlanObjective.Bytes => options.OrderBy(e => e.Configuration.ExpectedBytes).ThenBy(e => e.Latency.TotalMs).First(),
        PlanObjective.Accuracy => options.OrderBy(e => e.Configuration.DropPoints).ThenBy(e => e.Latency.TotalMs).First(),
        _ => options.OrderBy(e => e.Latency.TotalMs).ThenBy(e => e.Configuration.DropPoints).First(),
    };

    private static string Why(EvaluatedConfiguration best, PlanRequest request, int feasible, int total) => string.Create(CultureInfo.InvariantCulture,
        $"{feasible} of {total} configurations meet the budgets (drop <= {request.MaxDropPoints:0.##} points{(request.SloMs is double s ? $", latency <= {s:0.#} ms" : "")}); " +
        $"{best.Configuration.Id} has the {(request.Objective == PlanObjective.Accuracy ? "highest accuracy (latency breaking ties)" : "lowest " + PlanRequest.Name(request.Objective))} among them");

    private static string WhyNot(EvaluatedConfiguration fallback, PlanRequest request, IReadOnlyList<EvaluatedConfiguration> all)
    {
        var fastest = all.MinBy(e => e.Latency.TotalMs)!;
        string text = string.Create(CultureInfo.InvariantCulture,
            $"nothing meets the budget: the latency SLO of {request.SloMs:0.#} ms binds. The fastest configuration within the {request.MaxDropPoints:0.##}-point accuracy budget, " +
            $"{fallback.Configuration.Id}, is predicted at {fallback.Latency.TotalMs:0.#} ms");
        if (fastest.Latency.TotalMs <= request.SloMs && !fastest.MeetsAccuracy)
            text += string.Create(CultureInfo.InvariantCulture,
                $"; {fastest.Configuration.Id} would meet the SLO ({fastest.Latency.TotalMs:0.#} ms) but loses {fastest.Configuration.DropPoints:0.#} points, so the accuracy budget binds too");
        else
            text += string.Create(CultureInfo.InvariantCulture, $"; even the fastest configuration, {fastest.Configuration.Id}, takes {fastest.Latency.TotalMs:0.#} ms");
        return text + ". The plan keeps the fastest configuration within the accuracy budget.";
    }

    /// <summary>
    /// The configurations a client should be able to switch among: the choice for the planned link and for each
    /// preset link, and for the planned link with its uplink scaled from 1/16 to 16 times (all within the accuracy
    /// budget; SLO ignored, since a slow link may make it unmeetable). The chosen configuration comes first.
    /// </summary>
    public static IReadOnlyList<Configuration> AdaptiveSet(IReadOnlyList<Configuration> configurations, PlanDecision decision)
    {
        var ids = new List<string> { decision.Chosen.Configuration.Id };
        var links = new List<LinkProfile>(LinkProfile.Presets);
        var planned = decision.Request.Link;
        if (!double.IsPositiveInfinity(planned.UplinkKbps))
            for (double f = 1.0 / 16; f <= 16; f *= 2)
                links.Add(planned with { Name = $"x{f}", UplinkKbps = planned.UplinkKbps * f });
        foreach (var link in links)
        {
            var d = Decide(configurations, decision.Request with { Link = link, SloMs = null });
            if (!ids.Contains(d.Chosen.Configuration.Id)) ids.Add(d.Chosen.Configuration.Id);
        }
        return [.. ids.Select(id => configurations.First(c => c.Id == id))];
    }
}
