namespace Cleave.Runtime.Client;

/// <summary>Means over the answered requests of a run (milliseconds per request, bytes per request) and its totals.</summary>
public sealed record ClientSummary(
    int Requests, int Answered, int Failed, double BytesMean,
    double HeadMs, double EncodeMs, double UplinkMs, double QueueMs, double DecodeMs, double TailMs, double DownlinkMs,
    double TotalMs, double TotalP50Ms, double TotalP95Ms, double MeanBatchSize, int Checked, int CheckAgreed)
{
    public static ClientSummary From(IReadOnlyList<ImageRequestResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var ok = results.Where(r => r.Result is not null).ToList();
        double Mean(Func<ImageRequestResult, double> f) => ok.Count == 0 ? 0 : ok.Average(f);
        var totals = ok.Select(r => r.Result!.TotalMs).Order().ToArray();
        double Pct(double q) => totals.Length == 0 ? 0 : totals[Math.Clamp((int)Math.Ceiling(q * totals.Length) - 1, 0, totals.Length - 1)];
        var checkedOnes = ok.Where(r => r.LocalTop1 is not null).ToList();
        return new ClientSummary(results.Count, ok.Count, results.Count - ok.Count,
            results.Count == 0 ? 0 : results.Average(r => r.PayloadBytes),
            Mean(r => r.HeadMs), Mean(r => r.EncodeMs), Mean(r => r.Result!.UplinkMs), Mean(r => r.Result!.Timing.QueueMs),
            Mean(r => r.Result!.Timing.DecodeMs), Mean(r => r.Result!.Timing.TailMs), Mean(r => r.Result!.DownlinkMs),
            Mean(r => r.Result!.TotalMs), Pct(0.5), Pct(0.95), Mean(r => r.Result!.Timing.BatchSize),
            checkedOnes.Count, checkedOnes.Count(r => r.LocalTop1 == r.Result!.Top1));
    }
}
