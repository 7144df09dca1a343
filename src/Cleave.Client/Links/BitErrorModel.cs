using System.Globalization;

namespace Cleave.Runtime.Links;

/// <summary>
/// A binary channel's bit errors: independent flips with probability <see cref="BitErrorRate"/>, or, with a
/// <see cref="MeanBurstBits"/>, a Gilbert-Elliott channel with the same mean error rate whose errors come in bursts
/// (docs/links.md, "Bit errors").
/// </summary>
public sealed record BitErrorModel
{
    /// <summary>In the bad state of the burst model each bit is a coin toss: flipped with probability 1/2.</summary>
    public const double BadStateErrorRate = 0.5;

    public BitErrorModel(double bitErrorRate, double meanBurstBits = 0)
    {
        if (!(bitErrorRate >= 0 && bitErrorRate < BadStateErrorRate))
            throw new ArgumentOutOfRangeException(nameof(bitErrorRate), bitErrorRate, "the bit-error rate must be in [0, 0.5)");
        if (!(meanBurstBits == 0 || meanBurstBits >= 1) || double.IsInfinity(meanBurstBits))
            throw new ArgumentOutOfRangeException(nameof(meanBurstBits), meanBurstBits, "the mean burst length must be 0 (independent errors) or at least 1 bit");
        BitErrorRate = bitErrorRate;
        MeanBurstBits = meanBurstBits;
    }

    public static BitErrorModel None { get; } = new(0);

    /// <summary>Mean fraction of bits flipped.</summary>
    public double BitErrorRate { get; }

    /// <summary>0: independent flips; otherwise the mean length of a bad-state run, in bits.</summary>
    public double MeanBurstBits { get; }

    public bool IsBursty => MeanBurstBits > 0;
    public bool IsNone => BitErrorRate == 0;

    /// <summary>Bad -> good transition probability per bit (bursts last 1 / this on average).</summary>
    public double LeaveBad => IsBursty ? 1 / MeanBurstBits : 1;

    /// <summary>Good -> bad transition probability per bit, so that the stationary error rate is <see cref="BitErrorRate"/>:
    /// pi_bad = p_gb / (p_gb + p_bg) and pi_bad * 1/2 = BER give p_gb = BER * p_bg / (1/2 - BER).</summary>
    public double EnterBad => IsBursty ? BitErrorRate * LeaveBad / (BadStateErrorRate - BitErrorRate) : 0;

    public override string ToString() => IsNone ? "none"
        : IsBursty ? string.Create(CultureInfo.InvariantCulture, $"BER {BitErrorRate:G3}, bursts of {MeanBurstBits:G3} bits (Gilbert-Elliott)")
        : string.Create(CultureInfo.InvariantCulture, $"BER {BitErrorRate:G3}, independent");
}
