namespace Cleave.Codecs;

/// <summary>
/// The fixed parameters of one slicer encode: how many values survive (a ratio of the tensor or an absolute count),
/// how negatives are weighed against positives, how many magnitude blocks, and the distortion budget per block.
/// </summary>
public readonly record struct SlicerSettings
{
    public const int MaxBlocks = 16;
    public const float MaxAsymmetry = 100f;

    /// <summary>Largest delta: budgets above the signal power still matter, since blocks rarely use all of theirs.</summary>
    public const float MaxDelta = 16f;

    /// <summary>keep=1 (no filtering), 8 blocks, delta = 1e-3 (each block's quantization noise 30 dB below the tensor's power).</summary>
    public static SlicerSettings Default { get; } = new(1f, 0, 1f, 8, 1e-3f, false);

    public SlicerSettings(float keepRatio, int keepCount, float asymmetry, int blocks, float delta, bool powerOfTwoLevels,
        bool rowReferences = false, bool spatialContext = false)
    {
        if (keepCount < 0) throw new ArgumentOutOfRangeException(nameof(keepCount), keepCount, "count must be >= 1 (or 0 to use the ratio)");
        if (keepCount == 0 && !(keepRatio > 0 && keepRatio <= 1))
            throw new ArgumentOutOfRangeException(nameof(keepRatio), keepRatio, "keep must be in (0, 1]");
        if (!(asymmetry >= 0 && asymmetry <= MaxAsymmetry))
            throw new ArgumentOutOfRangeException(nameof(asymmetry), asymmetry, $"asym must be in [0, {MaxAsymmetry}]");
        if (blocks is < 1 or > MaxBlocks) throw new ArgumentOutOfRangeException(nameof(blocks), blocks, $"blocks must be 1..{MaxBlocks}");
        if (!(delta >= 0 && delta <= MaxDelta)) throw new ArgumentOutOfRangeException(nameof(delta), delta, $"delta must be in [0, {MaxDelta}]");
        KeepRatio = keepCount > 0 ? 1f : keepRatio;
        KeepCount = keepCount;
        Asymmetry = asymmetry;
        Blocks = blocks;
        Delta = delta;
        PowerOfTwoLevels = powerOfTwoLevels;
        RowReferences = rowReferences;
        SpatialContext = spatialContext;
    }

    /// <summary>Fraction of the elements kept, in (0, 1]; ignored when <see cref="KeepCount"/> is set.</summary>
    public float KeepRatio { get; }

    /// <summary>Absolute number of elements kept (capped at the tensor size), or 0 to use <see cref="KeepRatio"/>.</summary>
    public int KeepCount { get; }

    /// <summary>Weight of a negative value's magnitude in the top-K score (1 = plain magnitude, &lt; 1 favours positives).</summary>
    public float Asymmetry { get; }

    /// <summary>Number of equal-cardinality magnitude blocks M (1..16).</summary>
    public int Blocks { get; }

    /// <summary>
    /// Per-block distortion budget: a block of n_b values may have at most delta · n_b · P squared error, P being the
    /// tensor's mean square. delta = 10^(-S/10) keeps the quantization SNR of every block at S dB or better.
    /// </summary>
    public float Delta { get; }

    /// <summary>Restrict each block's level count to a power of two (the paper's bitwidth-only ABQ) instead of any count 1..256.</summary>
    public bool PowerOfTwoLevels { get; }

    /// <summary>
    /// <c>rows=ref</c>: when every value survives, the symbols may also be sent as row references (each row along the
    /// last axis directly or as its difference from an earlier row); the smaller of the two codings is kept.
    /// </summary>
    public bool RowReferences { get; }

    /// <summary>
    /// <c>ctx=2d</c>: when every value survives, the symbols may also be sent range-coded under their left and upper
    /// neighbours (as value ranks, <see cref="SpatialContextCoder"/>); the smallest coding is kept.
    /// </summary>
    public bool SpatialContext { get; }

    /// <summary>The number of survivors K for a tensor of <paramref name="n"/> elements (at least 1 when n &gt; 0).</summary>
    public int SurvivorsFor(int n)
    {
        if (n == 0) return 0;
        long k = KeepCount > 0 ? KeepCount : (long)Math.Round((double)KeepRatio * n, MidpointRounding.AwayFromZero);
        return (int)Math.Clamp(k, 1, n);
    }

    public SlicerSettings With(float? keepRatio = null, int? blocks = null, float? delta = null) =>
        new(keepRatio ?? KeepRatio, keepRatio is null ? KeepCount : 0, Asymmetry, blocks ?? Blocks, delta ?? Delta, PowerOfTwoLevels, RowReferences, SpatialContext);
}
