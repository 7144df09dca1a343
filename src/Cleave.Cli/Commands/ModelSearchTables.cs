using Cleave.Planning.Planner;

namespace Cleave.Cli.Commands;

/// <summary>Text output of <c>cleave plan --models</c>: the models, the choice, the three-objective front, the threshold x link table.</summary>
internal static class ModelSearchTables
{
    public static void PrintModels(ModelSet models)
    {
        Console.WriteLine($"models ({models.Models.Count}; drops are measured from the best, {models.BestModel}, top-1 {100 * models.BestFullTop1:0.0}% on {models.Models[0].Profile!.Images} images):");
        foreach (var m in models.Models)
            Console.WriteLine($"  {m.Name,-36} top-1 {100 * m.Profile!.FullTop1,5:0.0}%  whole model {m.Profile.FullMs,7:0.00} ms  {m.Profile.Splits.Count} cuts");
    }

    public static void PrintDecision(ModelSearchDecision search, double deviceSpeed, string? output)
    {
        var d = search.Decision;
        var c = search.Chosen;
        var l = d.Chosen.Latency;
        PrintModels(search.Models);
        Console.WriteLine($"link {d.Request.Link}; device speed {deviceSpeed:0.###}; budget: drop <= {d.Request.MaxDropPoints:0.##} points from the best model" +
                          $"{(d.Request.SloMs is double s ? $", latency <= {s:0.#} ms" : "")}; objective {PlanRequest.Name(d.Request.Objective)}");
        Console.WriteLine($"{(d.Feasible ? "chosen" : "NOT MET, fallback")}: {c.Id}");
        Console.WriteLine($"  predicted {l.TotalMs:0.0} ms = device {l.DeviceMs:0.0} + encode {l.EncodeMs:0.00} + network {l.NetworkMs:0.0} + server {l.ServerDecodeMs + l.ServerMs:0.0}; " +
                          $"top-1 {100 * c.Top1:0.0}% (drop {c.DropPoints:0.0}), {(c.ExpectedBytes):0} bytes up");
        Console.WriteLine($"  {d.Explanation}");
        Console.WriteLine();
        Console.WriteLine("Pareto front (accuracy, predicted end-to-end latency, uplink bytes) on this link:");
        Console.WriteLine($"  {"configuration",-72} {"total ms",9} {"bytes",8} {"top-1 %",8} {"ok",3}");
        foreach (var e in search.ParetoFront3)
            Console.WriteLine($"{(e.Configuration.Id == c.Id ? "*" : " ")} {e.Configuration.Id,-72} {e.Latency.TotalMs,9:0.0} " +
                              $"{(e.Configuration.ExpectedBytes),8:0} {100 * e.Configuration.Top1,8:0.0} {(e.Feasible ? "yes" : "no"),3}");
        if (output is not null) Console.WriteLine($"the chosen model's plan written to {output}");
    }

    public static void PrintSweep(ModelSet models, IReadOnlyList<ModelSearchCell> cells, IReadOnlyList<double> thresholds, double maxDrop, double deviceSpeed, PlanObjective objective)
    {
        PrintModels(models);
        Console.WriteLine($"choice per latency threshold (rows) and link (columns); drop <= {maxDrop:0.##} points from the best model, device speed {deviceSpeed:0.###}, objective {PlanRequest.Name(objective)}");
        var links = cells.Select(c => c.Link).Distinct().ToList();
        Console.WriteLine($"| threshold | {string.Join(" | ", links)} |");
        Console.WriteLine($"| ---: |{string.Concat(links.Select(_ => " --- |"))}");
        foreach (double t in thresholds)
        {
            var row = links.Select(link => cells.First(c => c.Link == link && c.ThresholdMs == t))
                .Select(c => $"{c.Chosen} ({c.PredictedMs:0} ms, {100 * c.Top1:0.0}%, {c.BytesMean:0} B){(c.Feasible ? "" : " NOT MET")}");
            Console.WriteLine($"| {t:0.#} ms | {string.Join(" | ", row)} |");
        }
    }
}
