using Cleave.Runtime.Links;

namespace Cleave.Planning.Planner;

/// <summary>
/// The multi-model decision: the single-model planner's decision over every model's configurations, and the front of
/// configurations no other beats on all three of accuracy, predicted end-to-end latency and uplink bytes.
/// </summary>
public sealed record ModelSearchDecision(ModelSet Models, PlanDecision Decision, IReadOnlyList<EvaluatedConfiguration> ParetoFront3)
{
    public Configuration Chosen => Decision.Chosen.Configuration;
}

/// <summary>One cell of a threshold x link sweep: what the joint search chooses there.</summary>
public sealed record ModelSearchCell(string Link, double ThresholdMs, string Chosen, string Model, double PredictedMs, double Top1, double DropPoints,
    double BytesMean, bool Feasible);

/// <summary>
/// Joint model x cut x codec search (NASC-style, training-free at this level): every model of a <see cref="ModelSet"/>
/// contributes its configurations; the single-model planner's constraints and objectives then apply unchanged (drop
/// measured from the best model). With <see cref="PlanObjective.Accuracy"/> and an SLO it answers "the most accurate
/// configuration under this latency threshold on this link".
/// </summary>
public static class ModelSearch
{
    public static ModelSearchDecision Decide(ModelSet models, Hardware hardware, PlanRequest request)
    {
        ArgumentNullException.ThrowIfNull(models);
        var decision = SplitPlanner.Decide(models.Configurations(hardware), request);
        return new ModelSearchDecision(models, decision, ParetoFront3(decision.Candidates));
    }

    /// <summary>
    /// The chosen model's own plan.json (its configurations with their own ids and drops, so <c>cleave split/serve/client
    /// --plan</c> run it as any plan): the same choice, made among that model's configurations with the accuracy budget
    /// moved by the model's distance from the best one, and that model's adaptive set.
    /// </summary>
    public static PlanDocument PlanForChosen(ModelSearchDecision search, Hardware hardware)
    {
        ArgumentNullException.ThrowIfNull(search);
        var chosen = search.Chosen;
        var profile = search.Models.Profile(chosen.Model!);
        var own = ConfigurationBuilder.Build(profile, hardware);
        var request = search.Decision.Request;
        double ownBudget = Math.Max(0, request.MaxDropPoints - 100 * (search.Models.BestFullTop1 - profile.FullTop1));
        var decision = SplitPlanner.Decide(own, request with { MaxDropPoints = ownBudget });
        string id = ModelSet.LocalId(chosen);
        if (decision.Chosen.Configuration.Id != id)
        {
            // Ties (or an infeasible search's fallback) may pick another of the model's configurations: keep the search's.
            var evaluated = decision.Candidates.First(e => e.Configuration.Id == id);
            decision = decision with { Chosen = evaluated };
        }
        return PlanDocument.From(decision, SplitPlanner.AdaptiveSet(own, decision), profile, hardware);
    }

    /// <summary>Candidates not dominated in (drop, latency, bytes), fastest first. Local configurations send 0 bytes.</summary>
    public static IReadOnlyList<EvaluatedConfiguration> ParetoFront3(IReadOnlyList<EvaluatedConfiguration> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        static double Bytes(EvaluatedConfiguration e) => e.Configuration.ExpectedBytes;
        var front = new List<EvaluatedConfiguration>();
        foreach (var a in candidates)
        {
            bool dominated = false;
            foreach (var b in candidates)
            {
                if (ReferenceEquals(a, b)) continue;
                double ta = a.Latency.TotalMs, tb = b.Latency.TotalMs, da = a.Configuration.DropPoints, db = b.Configuration.DropPoints, ba = Bytes(a), bb = Bytes(b);
                if (tb <= ta && db <= da && bb <= ba && (tb < ta || db < da || bb < ba)) { dominated = true; break; }
            }
            if (!dominated) front.Add(a);
        }
        return [.. front.OrderBy(e => e.Latency.TotalMs)];
    }

    /// <summary>The choice for every link and latency threshold (the threshold is the SLO); the objective is usually accuracy.</summary>
    public static IReadOnlyList<ModelSearchCell> Sweep(ModelSet models, Hardware hardware, IReadOnlyList<LinkProfile> links, IReadOnlyList<double> thresholdsMs,
        double maxDropPoints, PlanObjective objective)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(links);
        ArgumentNullException.ThrowIfNull(thresholdsMs);
        var configurations = models.Configurations(hardware);
        var cells = new List<ModelSearchCell>();
        foreach (double threshold in thresholdsMs)
            foreach (var link in links)
            {
                var d = SplitPlanner.Decide(configurations, new PlanRequest(link, maxDropPoints, threshold, objective));
                var c = d.Chosen.Configuration;
                cells.Add(new ModelSearchCell(link.Name, threshold, c.Id, c.Model ?? "", d.Chosen.Latency.TotalMs, c.Top1, c.DropPoints,
                    c.ExpectedBytes, d.Feasible));
            }
        return cells;
    }
}
