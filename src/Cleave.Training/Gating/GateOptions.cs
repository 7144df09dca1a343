namespace Cleave.Training.Gating;

/// <summary>How <see cref="GateTrainer"/> trains a per-input gate for a split folder.</summary>
public sealed record GateOptions
{
    /// <summary>The ladder: codec specs, cheapest first (e.g. rans-ifc settings of rising bytes at the split's cut).</summary>
    public IReadOnlyList<string> Codecs { get; init; } = [];
    /// <summary>Channels of the gate's 1x1 convolution before pooling.</summary>
    public int Hidden { get; init; } = 32;
    public int Epochs { get; init; } = 40;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 0.003;
    public double WeightDecay { get; init; } = 1e-4;
    /// <summary>Share of the training images held out to choose the threshold (never trained on).</summary>
    public double CalibrationFraction { get; init; } = 0.2;
    /// <summary>Top-1 (0.01 = 1 point) the chosen threshold may lose against the best static configuration on those images.</summary>
    public double MaxLoss { get; init; }
    /// <summary>Also cache every training image mirrored (two samples, both through the real head and the whole ladder).</summary>
    public bool Flips { get; init; } = true;
    /// <summary>Timed runs of the gate and of the head (ONNX Runtime, one thread) for the device cost.</summary>
    public int LatencyRuns { get; init; } = 50;
    public int Seed { get; init; } = 1;

    public void Validate()
    {
        if (Codecs.Count < 2) throw new ArgumentException("a gate needs a ladder of at least two codec settings (cheapest first)");
        if (Hidden < 1 || Epochs < 1 || BatchSize < 1 || LatencyRuns < 1) throw new ArgumentException("hidden, epochs, batch and latency runs must be at least 1");
        if (!(LearningRate > 0)) throw new ArgumentException("the learning rate must be positive");
        if (CalibrationFraction is <= 0 or >= 1) throw new ArgumentException("the calibration fraction must be in (0, 1)");
        if (MaxLoss is < 0 or > 1) throw new ArgumentException("the allowed loss is a fraction in [0, 1]");
    }
}
