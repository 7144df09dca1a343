namespace Cleave.Codecs.Entropy;

/// <summary>
/// One adaptive probability cell for <see cref="BinaryRangeEncoder"/>: the probability of a 0 (11 bits) and how many
/// bits it has seen. The first bits move it fast (1/2, 1/3, 1/4 ... of the way to the bit: a running frequency
/// estimate), later ones 1/32 of the way (a window that follows drift). Why: a small tensor spread over many
/// contexts gives each cell few bits, and a fixed slow rate spends most of them learning (measured on MobileNetV2
/// expanded_conv_5/add, 6 levels: 5,113 B with a fixed 1/32, 4,990 B with this; docs/codecs.md).
/// </summary>
public struct AdaptiveBit
{
    private const int One = 1 << BinaryRangeEncoder.ProbabilityBits;
    private const int SlowestRate = 32;
    private static readonly int[] RateMultipliers = BuildRates();

    private ushort _probability;
    private byte _seen;

    public static AdaptiveBit Initial => new() { _probability = One / 2 };

    /// <summary>Probability bounds of a settled cell: 31..2017 of 2048, the range every state reachable from
    /// <see cref="Initial"/> stays in, and a fixed point of the slowest rate (so updates never leave it).</summary>
    public const int SettledMin = 31, SettledMax = One - 31;

    /// <summary>
    /// A cell that starts at <paramref name="probability"/> (clamped to <see cref="SettledMin"/>..<see cref="SettledMax"/>)
    /// and already adapts at the slowest rate, 1/32: a prior sent with a frame (docs/format.md, "Layout 2"). Why the
    /// slowest rate: a fast first update would throw the prior away, and at 1/32 a probability inside the bounds stays
    /// inside them, which keeps the coder's decisions-per-byte bound (SpatialContextCoder.MaxDecisionsPerByte).
    /// </summary>
    public static AdaptiveBit Settled(uint probability) =>
        new() { _probability = (ushort)Math.Clamp(probability, (uint)SettledMin, (uint)SettledMax), _seen = (byte)(RateMultipliers.Length - 1) };

    /// <summary>The probability of a 0, in 1..2047 of 2048 (never 0 or 2048, so both bits stay codable).</summary>
    public readonly uint Probability => _probability;

    public void Update(int bit)
    {
        int rate = RateMultipliers[_seen];
        if (_seen < RateMultipliers.Length - 1) _seen++;
        if (bit == 0) _probability += (ushort)(((One - _probability) * rate) >> 16);
        else _probability -= (ushort)((_probability * rate) >> 16);
    }

    /// <summary>Multipliers (of 2^16) for 1/2, 1/3, ... 1/32: the weight of the newest bit after n bits seen.</summary>
    private static int[] BuildRates()
    {
        var rates = new int[SlowestRate - 1];
        for (int n = 0; n < rates.Length; n++) rates[n] = 65536 / (n + 2);
        return rates;
    }
}
