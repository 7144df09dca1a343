using Cleave.Models.Splitting;

namespace Cleave.Planning.Profiles;

/// <summary>Picks a few cuts worth calibrating from everything <c>cleave inspect</c> lists.</summary>
public static class CandidateCuts
{
    /// <summary>
    /// Single-tensor cuts with between 5% and 95% of the MACs on the device, split into <paramref name="count"/>
    /// equal ranges of head MAC share; from each range the cut with the smallest float32 feature (the deeper one on a
    /// tie), because at equal compute the smaller tensor is always the cheaper one to send.
    /// </summary>
    public static IReadOnlyList<string> Select(ModelReport report, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        const double low = 0.05, high = 0.95;
        var best = new SplitPointReport?[count];
        foreach (var p in report.SplitPoints)
        {
            if (p.Kind != "single" || p.BytesFp32 is null || p.HeadMacShare <= low || p.HeadMacShare >= high) continue;
            int bucket = Math.Min(count - 1, (int)((p.HeadMacShare - low) / (high - low) * count));
            var current = best[bucket];
            if (current is null || p.BytesFp32 < current.BytesFp32 || (p.BytesFp32 == current.BytesFp32 && p.Position > current.Position))
                best[bucket] = p;
        }
        var chosen = new List<string>();
        foreach (var p in best)
            if (p is not null) chosen.Add(p.Tensors[0]);
        if (chosen.Count == 0) throw new InvalidOperationException($"'{report.Model}' has no single-tensor cut between {low:P0} and {high:P0} of its MACs");
        return chosen;
    }
}
