namespace Cleave.Training.Bottleneck;

/// <summary>Settings of <c>cleave train bottleneck</c> (defaults are the documented MobileNetV2 run).</summary>
public sealed record BottleneckOptions
{
    /// <summary>Which encoder/decoder to train (<see cref="ConvBottleneck"/>).</summary>
    public BottleneckDesign Design { get; init; } = BottleneckDesign.Compact;

    /// <summary>Residual design: the starting quantizer step in standard deviations of each channel.</summary>
    public double StepSigmas { get; init; } = 1.0;

    /// <summary>Residual design: learned per-channel log-gains on the code (encoder) and at the decoder's input.</summary>
    public bool Gains { get; init; } = true;

    /// <summary>
    /// Learning rate of the log-space parameters (gains, the rate model's scales); 0 uses <see cref="LearningRate"/>.
    /// Each AdamW step moves a parameter by about its learning rate, so this is the most a code's scale changes per step (e^lr).
    /// </summary>
    public double ScaleLearningRate { get; init; } = 0.02;

    /// <summary>
    /// The decoder sees the rounded code with straight-through gradients (what the deployed codec delivers at step 1),
    /// while the rate term still sees code + uniform noise. False: the decoder sees the noisy code too (the noise-only
    /// proxy, which under-trains the decoder for rounding once the code is small: a value of 0.3 rounds to 0 every time).
    /// </summary>
    public bool StraightThrough { get; init; } = true;

    /// <summary>Logs every step of the first N steps of each stage (code spread, rate, gradient norms): for diagnosing a run.</summary>
    public int TraceSteps { get; init; }

    /// <summary>Channels of the code the device sends (compact design; the residual design sends the cut's own channels).</summary>
    public int CodeChannels { get; init; } = 8;

    /// <summary>Channels inside encoder and decoder.</summary>
    public int Hidden { get; init; } = 64;

    /// <summary>The code's soft bound B: values in (−B, B), about 2B+1 levels at step 1.</summary>
    public double Bound { get; init; } = 3;

    /// <summary>Epochs of the first stage: encoder and decoder against the cut tensor only (the tail is not run: cheap).</summary>
    public int FeatureEpochs { get; init; } = 10;

    /// <summary>Epochs of the second stage: distillation through the frozen tail.</summary>
    public int Epochs { get; init; } = 4;

    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 1e-3;
    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>Weight of the rate term (estimated bits per code element).</summary>
    public double RateWeight { get; init; } = 0.01;

    /// <summary>Weight of the feature term (MSE to the cut tensor over its variance) in the second stage.</summary>
    public double FeatureWeight { get; init; } = 0.5;

    /// <summary>Share of the training images held out for validation (never trained on).</summary>
    public double ValidationFraction { get; init; } = 0.1;

    public int Seed { get; init; } = 1;

    /// <summary>Also train on mirrored images (features computed by the head on the mirrored image).</summary>
    public bool Flips { get; init; } = true;

    /// <summary>
    /// Random views (crop, mirror, colour jitter; <see cref="Data.RandomViews"/>) of each training image cached besides the
    /// image itself: more distinct samples for the distillation, at one head and teacher run each. Validation images get none.
    /// </summary>
    public int RandomViews { get; init; }

    /// <summary>
    /// Mixes every random view with a random crop of another training image (<see cref="Data.ViewMix"/>: mixup or cutmix;
    /// function matching: the teacher's output on the mixed image is the target). Needs <see cref="RandomViews"/> above 0.
    /// </summary>
    public Data.ViewMix ViewMix { get; init; }

    /// <summary>
    /// The codec measured on the validation images (bytes and accuracy through encode/decode). The default quantizes over
    /// the fixed range [−3, 3] with 7 levels: step 1 in code units, the grid the noise in training imitates, so a code that
    /// shrinks is paid for in fewer bits, not a finer grid (with <see cref="Bound"/> B use levels=2B+1,range=B).
    /// </summary>
    public string Codec { get; init; } = "rans-ifc:bits=3,levels=7,range=3,ctx=2d";

    /// <summary>Stops each stage after this many steps when positive (smoke tests).</summary>
    public int MaxStepsPerStage { get; init; }
}

/// <summary>The two encoder/decoder designs of <see cref="ConvBottleneck"/>.</summary>
public enum BottleneckDesign
{
    /// <summary>Fewer code channels, learned from random weights.</summary>
    Compact,

    /// <summary>The cut's channels, started as the training-free per-channel quantizer and refined.</summary>
    Residual,
}
