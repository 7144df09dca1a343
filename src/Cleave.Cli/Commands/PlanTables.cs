using Cleave.Planning.Planner;

namespace Cleave.Cli.Commands;

/// <summary>Text output of <c>cleave plan</c>: the decision with its latency breakdown, the Pareto table, the link sweep.</summary>
internal static class PlanTables
{
    public static void PrintDecision(PlanDecision decision, PlanDocument plan, string? output)
    {
        var chosen = decision.Chosen;
        var c = chosen.Configuration;
        var l = chosen.Latency;
        Console.WriteLine($"link {decision.Request.Link}; device speed {plan.DeviceSpeed:0.###}, server speed {plan.ServerSpeed:0.###}; " +
                          $"budget: drop <= {plan.MaxDropPoints:0.##} points{(plan.SloMs is double s ? $", latency <= {s:0.#} ms" : "")}; objective {plan.Objective}");
        Console.WriteLine($"{(decision.Feasible ? "chosen" : "NOT MET, fallback")}: {c.Id}");
        Console.WriteLine($"  predicted {l.TotalMs:0.0} ms = device {l.DeviceMs:0.0} + encode {l.EncodeMs:0.00} + uplink {l.UplinkMs:0.0} + rtt {l.RttMs:0.0} " +
                          $"+ server decode {l.ServerDecodeMs:0.00} + server {l.ServerMs:0.0} + downlink {l.DownlinkMs:0.0}");
        Console.WriteLine($"  top-1 {100 * c.Top1:0.0}% (drop {c.DropPoints:0.0} points over {plan.CalibrationImages} images), {(c.ExpectedBytes):0} bytes up, server time {c.ServerTotalMs:0.0} ms");
        if (c.ExitThreshold is double t)
            Console.WriteLine($"  early exit at confidence {t:0.####}: {100 * c.ExitRate:0.0}% of requests answered on the device (stored curve), exit {c.ExitMs:0.00} ms; " +
                              $"bytes and server time are means over all requests ({c.BytesMean:0} bytes per sent frame)");
        Console.WriteLine($"  {decision.Explanation}");
        Console.WriteLine($"  adaptive set ({plan.Adaptive.Count}): {string.Join(", ", plan.Adaptive)}");
        Console.WriteLine();
        Console.WriteLine("Pareto front (predicted latency vs accuracy drop on this link):");
        PrintRows(decision.ParetoFront, c.Id);
        if (output is not null) Console.WriteLine($"plan written to {output}");
    }

    private static void PrintRows(IEnumerable<EvaluatedConfiguration> rows, string chosenId)
    {
        Console.WriteLine($"  {"configuration",-62} {"total ms",9} {"device",7} {"net",8} {"server",7} {"bytes",8} {"drop",6} {"ok",3}");
        foreach (var e in rows)
        {
            var c = e.Configuration;
            string mark = c.Id == chosenId ? "*" : " ";
            Console.WriteLine($"{mark} {c.Id,-62} {e.Latency.TotalMs,9:0.0} {e.Latency.DeviceMs + e.Latency.EncodeMs,7:0.0} {e.Latency.NetworkMs,8:0.0} " +
                              $"{e.Latency.ServerDecodeMs + e.Latency.ServerMs,7:0.0} {(c.ExpectedBytes),8:0} {c.DropPoints,6:0.0} {(e.Feasible ? "yes" : "no"),3}");
        }
    }

    public static void PrintSweep(IReadOnlyList<SweepCell> cells, IReadOnlyList<double> speeds, double maxDrop, double serverSpeed)
    {
        Console.WriteLine($"choice per link (rows) and device speed (columns), drop <= {maxDrop:0.##} points, server speed {serverSpeed:0.###}");
        Console.WriteLine($"| link | {string.Join(" | ", speeds.Select(s => $"device x{s:0.###}"))} |");
        Console.WriteLine($"| --- |{string.Concat(speeds.Select(_ => " --- |"))}");
        foreach (var link in cells.Select(c => c.Link).Distinct())
        {
            var row = speeds.Select(s => cells.First(c => c.Link == link && c.DeviceSpeed == s))
                .Select(c => $"{c.Chosen} ({c.PredictedMs:0} ms, {c.BytesMean:0} B, -{c.DropPoints:0.0} pt){(c.Feasible ? "" : " NOT MET")}");
            Console.WriteLine($"| {link} | {string.Join(" | ", row)} |");
        }
    }
}
