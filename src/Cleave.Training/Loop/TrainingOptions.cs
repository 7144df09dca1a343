using Cleave.Training.Data;

namespace Cleave.Training.Loop;

/// <summary>Which optimizer a <see cref="Trainer"/> uses.</summary>
public enum OptimizerKind
{
    AdamW,
    /// <summary>SGD with momentum (Nesterov off).</summary>
    Sgd,
}

/// <summary>How a run trains: steps, batch, optimizer and cosine schedule, seed, checkpoints, validation.</summary>
public sealed record TrainingOptions
{
    public int Steps { get; init; } = 100;
    public int BatchSize { get; init; } = 32;
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.AdamW;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Decoupled weight decay for AdamW, L2 for SGD.</summary>
    public double WeightDecay { get; init; } = 1e-4;
    public double Momentum { get; init; } = 0.9;
    /// <summary>Linear warm-up steps before the cosine decay to <see cref="MinLearningRateFraction"/> of the peak.</summary>
    public int WarmupSteps { get; init; }
    public double MinLearningRateFraction { get; init; }
    public int Seed { get; init; }
    public Augmentation? Augmentation { get; init; }
    /// <summary>Checkpoint file (written atomically) or null for none.</summary>
    public string? CheckpointPath { get; init; }
    public int CheckpointEvery { get; init; } = 100;
    /// <summary>Continue from <see cref="CheckpointPath"/> when it exists.</summary>
    public bool Resume { get; init; }
    /// <summary>Validate every this many steps (and at the end); 0 validates only at the end.</summary>
    public int ValidateEvery { get; init; }

    public void Validate()
    {
        if (Steps < 1) throw new ArgumentException("steps must be at least 1");
        if (BatchSize < 1) throw new ArgumentException("the batch size must be at least 1");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentException("the learning rate must be a positive number");
        if (WeightDecay < 0 || Momentum is < 0 or >= 1) throw new ArgumentException("weight decay must be >= 0 and momentum in [0, 1)");
        if (WarmupSteps < 0 || WarmupSteps >= Steps) throw new ArgumentException("warm-up steps must be in [0, steps)");
        if (MinLearningRateFraction is < 0 or > 1) throw new ArgumentException("the minimum learning rate fraction must be in [0, 1]");
        if (CheckpointEvery < 1) throw new ArgumentException("checkpoint-every must be at least 1");
        if (Resume && CheckpointPath is null) throw new ArgumentException("resuming needs a checkpoint path");
    }

    /// <summary>The learning rate at <paramref name="step"/> (0-based): linear warm-up, then half a cosine.</summary>
    public double LearningRateAt(long step)
    {
        if (step < WarmupSteps) return LearningRate * (step + 1) / WarmupSteps;
        double progress = (double)(step - WarmupSteps) / Math.Max(1, Steps - WarmupSteps);
        double floor = LearningRate * MinLearningRateFraction;
        return floor + (LearningRate - floor) * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1, progress)));
    }
}
