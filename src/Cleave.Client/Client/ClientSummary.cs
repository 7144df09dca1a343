namespace Cleave.Runtime.Client;

/// <summary>
/// Means over the requests the server answered (milliseconds per request, bytes per request over every request, sent or
/// not) and the run's totals. <see cref="Exited"/> requests were answered by the device's exit: <see cref="BytesSaved"/>
/// is the frames they kept off the link, and <see cref="ServerMsSaved"/> the server time they would have cost at this
/// run's mean decode + tail time per request.
/// </summary>
public sealed record ClientSummary(
    int Requests, int Answered, int Failed, double BytesMean,
    double HeadMs, double EncodeMs, double UplinkMs, double QueueMs, double DecodeMs, double TailMs, double DownlinkMs,
    double TotalMs, double TotalP50Ms, double TotalP95Ms, double MeanBatchSize, int Checked, int CheckAgreed)
{
    public int Exited { get; init; }
    public long BytesSaved { get; init; }
    public double ServerMsSaved { get; init; }

    public static ClientSummary From(IReadOnlyList<ImageRequestResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var ok = results.Where(r => r.Result is not null).ToList();
        var exited = results.Where(r => r.AnsweredOnDevice).ToList();
        double Mean(Func<ImageRequestResult, double> f) => ok.Count == 0 ? 0 : ok.Average(f);
        // Head and encode times are the device's, so they count every answered request, sent or exited.
        double DeviceMean(Func<ImageRequestResult, double> f) => ok.Count + exited.Count == 0 ? 0 : ok.Concat(exited).Average(f);
        var totals = ok.Select(r => r.Result!.TotalMs).Order().ToArray();
        double Pct(double q) => totals.Length == 0 ? 0 : totals[Math.Clamp((int)Math.Ceiling(q * totals.Length) - 1, 0, totals.Length - 1)];
        var checkedOnes = ok.Where(r => r.LocalTop1 is not null).ToList();
        int answered = ok.Count + exited.Count;
        double decode = Mean(r => r.Result!.Timing.DecodeMs), tail = Mean(r => r.Result!.Timing.TailMs);
        return new ClientSummary(results.Count, answered, results.Count - answered,
            results.Count == 0 ? 0 : results.Average(r => r.PayloadBytes),
            DeviceMean(r => r.HeadMs), DeviceMean(r => r.EncodeMs),
            Mean(r => r.Result!.UplinkMs), Mean(r => r.Result!.Timing.QueueMs),
            decode, tail, Mean(r => r.Result!.DownlinkMs),
            Mean(r => r.Result!.TotalMs), Pct(0.5), Pct(0.95), Mean(r => r.Result!.Timing.BatchSize),
            checkedOnes.Count, checkedOnes.Count(r => r.LocalTop1 == r.Result!.Top1))
        {
            Exited = exited.Count,
            BytesSaved = exited.Sum(r => (long)r.BytesSaved),
            ServerMsSaved = exited.Count * (decode + tail),
        };
    }
}
