using Cleave.Runtime.Links;

namespace Cleave.Training.Resilience;

/// <summary>Settings of <c>cleave train error-aware</c> (<see cref="ErrorAwareTrainer"/>).</summary>
public sealed record ErrorAwareOptions
{
    /// <summary>The plain codec inside the resilient frame (the bytes on the wire are those of <c>resilient:OPTS/CODEC</c>).</summary>
    public string Codec { get; init; } = "rans-ifc:bits=3,levels=6,clip=3,ctx=2d";

    /// <summary>The resilient layout's options.</summary>
    public string Resilient { get; init; } = "planes=1,rows=14";

    /// <summary>The channels errors are injected with; each training copy of an image takes the next one in turn.</summary>
    public IReadOnlyList<BitErrorModel> Channels { get; init; } = [new(1e-4), new(1e-3)];

    /// <summary>Damaged copies of every cached sample (fresh flips each).</summary>
    public int Copies { get; init; } = 2;

    /// <summary>Channels inside the residual adapter (1x1 down, 3x3, 1x1 up; the last zero-initialised: it starts as the identity).</summary>
    public int Rank { get; init; } = 16;

    public int Epochs { get; init; } = 2;
    public int BatchSize { get; init; } = 16;
    public double LearningRate { get; init; } = 1e-3;
    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>Share of the images held out to validate (damaged the same way with other flips; never trained on).</summary>
    public double ValidationFraction { get; init; } = 0.1;

    /// <summary>Also cache every training image mirrored.</summary>
    public bool Flips { get; init; } = true;

    /// <summary>Stops after this many steps when positive (smoke tests).</summary>
    public int MaxSteps { get; init; }

    /// <summary>Stops after the step that passes this many seconds of training (0: no limit).</summary>
    public double MaxSeconds { get; init; }

    public int Seed { get; init; } = 1;

    public void Validate()
    {
        if (Channels.Count == 0) throw new ArgumentException("name at least one bit-error channel to train with");
        if (Copies < 1 || Rank < 1 || Epochs < 1 || BatchSize < 1) throw new ArgumentException("copies, rank, epochs and batch must be at least 1");
        if (!(LearningRate > 0)) throw new ArgumentException("the learning rate must be positive");
        if (ValidationFraction is < 0 or >= 1) throw new ArgumentException("the validation fraction must be in [0, 1)");
    }
}
