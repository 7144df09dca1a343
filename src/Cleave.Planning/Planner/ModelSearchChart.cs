using Cleave.Evaluation.Plotting;

namespace Cleave.Planning.Planner;

/// <summary>
/// The joint search as a picture: every configuration of every model at its predicted end-to-end latency (log x) and
/// top-1 (y), one marker colour per model, and the accuracy-vs-latency Pareto front over all models as a line.
/// </summary>
public static class ModelSearchChart
{
    public static byte[] RenderPng(ModelSearchDecision search)
    {
        ArgumentNullException.ThrowIfNull(search);
        var d = search.Decision;
        var chart = new LineChart
        {
            Title = FormattableString.Invariant($"{search.Models.Models.Count} models x cuts x codecs on {d.Request.Link.Name}"),
            XLabel = "predicted end-to-end latency (ms)", YLabel = "top-1 on the calibration images (%)", LogX = true,
        };
        foreach (var group in d.Candidates.GroupBy(e => e.Configuration.Model ?? ""))
            chart.Series.Add(new ChartSeries(group.Key, [.. group.Select(e => (e.Latency.TotalMs, 100 * e.Configuration.Top1))], Connect: false));
        // The two-objective front (latency, accuracy): the planner's own Pareto marks.
        chart.Series.Add(new ChartSeries("Pareto front", [.. d.ParetoFront.Select(e => (e.Latency.TotalMs, 100 * e.Configuration.Top1))]));
        return chart.RenderPng();
    }
}
