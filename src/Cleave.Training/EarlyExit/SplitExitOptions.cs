namespace Cleave.Training.EarlyExit;

/// <summary>How <see cref="SplitExitTrainer"/> trains an exit head for an existing split folder.</summary>
public sealed record SplitExitOptions
{
    /// <summary>Channels of the exit's 1x1 convolution before pooling.</summary>
    public int Hidden { get; init; } = 256;
    /// <summary>Connections kept in that convolution (1/G; 1 = dense).</summary>
    public double Density { get; init; } = 1;
    public int Epochs { get; init; } = 30;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 0.003;
    public double WeightDecay { get; init; } = 1e-4;
    /// <summary>Softmax temperature of the distillation (the threshold is always on the temperature-1 softmax).</summary>
    public double Temperature { get; init; } = 2;
    /// <summary>Share of the training images held out to calibrate the threshold (never trained on).</summary>
    public double CalibrationFraction { get; init; } = 0.2;
    /// <summary>Overall accuracy (0.01 = 1 point) the chosen threshold may cost on the calibration images.</summary>
    public double MaxLoss { get; init; } = 0.01;
    /// <summary>Also cache every training image mirrored (two samples, both through the real head).</summary>
    public bool Flips { get; init; } = true;
    public int Seed { get; init; } = 1;

    public void Validate()
    {
        if (Hidden < 1 || Epochs < 1 || BatchSize < 1) throw new ArgumentException("hidden, epochs and batch must be at least 1");
        if (!(LearningRate > 0) || !(Temperature > 0)) throw new ArgumentException("the learning rate and temperature must be positive");
        if (CalibrationFraction is <= 0 or >= 1) throw new ArgumentException("the calibration fraction must be in (0, 1)");
        if (MaxLoss is < 0 or > 1) throw new ArgumentException("the allowed loss is a fraction in [0, 1]");
    }
}
