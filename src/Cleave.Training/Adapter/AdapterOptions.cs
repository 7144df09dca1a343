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

    /// <summary>
    /// Feature matching at the cut: squared error, normalised per channel, between the adapted cut tensor of the shifted
    /// image and the head's cut tensor of the unshifted image. The tail is not run in training.
    /// </summary>
    Feature,

    /// <summary><see cref="Feature"/> plus <see cref="AdapterOptions.DistillWeight"/> times <see cref="Distill"/>'s KL (through the frozen tail).</summary>
    FeatureDistill,
}

/// <summary>How <see cref="AdapterLoss.Feature"/> weighs the channels of the cut.</summary>
public enum FeatureWeighting
{
    /// <summary>Each channel divided by its variance over the training set: every channel counts alike whatever its scale.</summary>
    Variance,

    /// <summary>
    /// Each channel weighted by the frozen tail's diagonal Fisher information on the clean training cut tensors
    /// (<see cref="Distillation.TailFisher"/>, mean 1): channels the tail reads count more.
    /// </summary>
    Fisher,

    /// <summary>The geometric mean of the <see cref="Variance"/> and <see cref="Fisher"/> weights (each first scaled to mean 1), renormalised to mean 1.</summary>
    Mixed,
}

/// <summary>Settings of <c>cleave train adapter</c>.</summary>
public sealed record AdapterOptions
{
    public AdapterMode Mode { get; init; } = AdapterMode.Adapter;
    public AdapterLoss Loss { get; init; } = AdapterLoss.Labels;

    /// <summary>Channels inside the adapter (1x1 down, 3x3, 1x1 up; the last is zero-initialised).</summary>
    public int Rank { get; init; } = 16;

    /// <summary>3x3 convolutions in the adapter's branch (receptive field 2 x depth + 1 positions of the cut).</summary>
    public int Depth { get; init; } = 1;

    public int Epochs { get; init; } = 2;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 1e-3;
    public double WeightDecay { get; init; } = 1e-4;
    public double ValidationFraction { get; init; } = 0.1;
    public int Seed { get; init; } = 1;

    /// <summary>Codec between the adapted features and the tail on the validation images.</summary>
    public string Codec { get; init; } = "rans-ifc:bits=3,levels=6,clip=3,ctx=2d";

    /// <summary>Weight of the KL term in <see cref="AdapterLoss.FeatureDistill"/> (the feature term has weight 1).</summary>
    public double DistillWeight { get; init; } = 1;

    /// <summary>Channel weights of the feature loss; the Fisher pass runs the tail once per training image and counts in <see cref="MaxSeconds"/>.</summary>
    public FeatureWeighting FeatureWeights { get; init; } = FeatureWeighting.Variance;

    /// <summary>
    /// Draws of the shift's sensor noise cached per training image (1: the noise <c>cleave eval --shift</c> gives that
    /// file); epoch e shows every image with draw (e - 1) mod K, so K above 1 is noise augmentation at cache time.
    /// </summary>
    public int ShiftDraws { get; init; } = 1;

    /// <summary>
    /// Random views (crop, mirror, colour jitter; <see cref="Data.RandomViews"/>) cached per training image besides the
    /// image itself, each seen through the shift; adapter mode only (head fine-tuning trains on the images).
    /// </summary>
    public int Views { get; init; }

    /// <summary>
    /// Mixes every random view with a random crop of another training image (<see cref="Data.ViewMix"/>); the shifted
    /// input and the clean target are both made from the same mixed view. Needs <see cref="Views"/> above 0.
    /// </summary>
    public Data.ViewMix ViewMix { get; init; }

    /// <summary>
    /// Adapters trained one after another on the same cached features (member k with seed + k) and shipped as their mean,
    /// fused into one adapter (<see cref="AdapterEnsemble.Fuse"/>); adapter mode only. <see cref="MaxSeconds"/> bounds all.
    /// </summary>
    public int Ensemble { get; init; } = 1;

    /// <summary>Runs the validation pass after every this many epochs (and after the last); it counts in <see cref="MaxSeconds"/>.</summary>
    public int ValidateEvery { get; init; } = 1;

    /// <summary>Stops after this many steps when positive (smoke tests).</summary>
    public int MaxSteps { get; init; }

    /// <summary>Stops after the step that passes this many seconds of training (0: no limit); the epoch's validation still runs.</summary>
    public double MaxSeconds { get; init; }
}
