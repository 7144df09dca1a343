namespace Cleave.Training.Adapter;

/// <summary>What <c>cleave train adapter</c> trains.</summary>
public enum AdapterMode
{
    /// <summary>A small residual adapter after the frozen head (SALT-style).</summary>
    Adapter,

    /// <summary>Every weight of the head (the comparison SALT makes).</summary>
    Head,
}

/// <summary>The training signal.</summary>
public enum AdapterLoss
{
    /// <summary>Cross-entropy against the images' labels.</summary>
    Labels,

    /// <summary>KL to the frozen full model's output on the unshifted image.</summary>
    Distill,
}

/// <summary>Settings of <c>cleave train adapter</c>.</summary>
public sealed record AdapterOptions
{
    public AdapterMode Mode { get; init; } = AdapterMode.Adapter;
    public AdapterLoss Loss { get; init; } = AdapterLoss.Labels;

    /// <summary>Channels inside the adapter (1x1 down, 3x3, 1x1 up; the last is zero-initialised).</summary>
    public int Rank { get; init; } = 16;

    public int Epochs { get; init; } = 2;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 1e-3;
    public double WeightDecay { get; init; } = 1e-4;
    public double ValidationFraction { get; init; } = 0.1;
    public int Seed { get; init; } = 1;

    /// <summary>Codec between the adapted features and the tail on the validation images.</summary>
    public string Codec { get; init; } = "rans-ifc:bits=3,levels=6,clip=3,ctx=2d";

    /// <summary>Stops after this many steps when positive (smoke tests).</summary>
    public int MaxSteps { get; init; }

    /// <summary>Stops after the step that passes this many seconds of training (0: no limit); the epoch's validation still runs.</summary>
    public double MaxSeconds { get; init; }
}
