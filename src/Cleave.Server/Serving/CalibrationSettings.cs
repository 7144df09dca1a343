namespace Cleave.Runtime.Serving;

/// <summary>
/// How <see cref="ExecutionCalibrator"/> searches: the cores to fill, the batch sizes to try, how long each candidate
/// runs per round and how many interleaved rounds. The defaults take about candidates x rounds x window (2-core machine:
/// 4 x 4 x 0.2 s = 3.2 s) plus loading a session per stream.
/// </summary>
public sealed record CalibrationSettings
{
    /// <summary>Cores the plans fill: this process's processor count by default.</summary>
    public int Cores { get; init; } = Environment.ProcessorCount;

    /// <summary>Batch sizes tried (only 1 for a model whose batch is fixed at 1).</summary>
    public IReadOnlyList<int> Batches { get; init; } = [1, 4];

    public TimeSpan Window { get; init; } = TimeSpan.FromMilliseconds(200);

    public int Rounds { get; init; } = 4;

    /// <summary>A simpler plan within this fraction of the fastest is chosen instead (see <see cref="ExecutionCalibrator.Choose"/>).</summary>
    public double Tolerance { get; init; } = 0.05;

    public void Validate()
    {
        if (Cores < 1) throw new ArgumentException($"calibration needs at least 1 core, got {Cores}");
        if (Batches.Count == 0 || Batches.Any(b => b is < 1 or > ExecutionPlan.MaxBatchLimit)) throw new ArgumentException($"batch sizes must be 1..{ExecutionPlan.MaxBatchLimit}");
        if (Window <= TimeSpan.Zero || Window > TimeSpan.FromSeconds(10)) throw new ArgumentException($"the calibration window must be between 0 and 10 s, got {Window}");
        if (Rounds is < 1 or > 20) throw new ArgumentException($"calibration rounds must be 1..20, got {Rounds}");
        if (Tolerance is < 0 or >= 1) throw new ArgumentException($"the tolerance must be in [0, 1), got {Tolerance}");
    }
}
