using System.Globalization;

namespace Cleave.Models.Splitting;

/// <summary>
/// A bit-error channel an error-aware task tail was trained on (<see cref="SplitTask.TrainedChannels"/>): the mean
/// bit-error rate and, for Gilbert-Elliott bursts, their mean length in bits (0: independent flips). A client that
/// declares its channel picks the task by these (docs/resilience.md, "Selection by the channel").
/// </summary>
public sealed class SplitTaskChannel
{
    /// <summary>Mean fraction of bits flipped, in (0, 0.5).</summary>
    public double Ber { get; init; }

    /// <summary>0: independent flips; otherwise the mean burst length in bits (at least 1).</summary>
    public double BurstBits { get; init; }

    /// <summary>Throws <see cref="InvalidDataException"/> for a rate or burst length no channel has (a hand-edited or hostile manifest).</summary>
    public void Validate(string task)
    {
        if (!(Ber > 0 && Ber < 0.5))
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"task '{task}': trained channel BER {Ber} is not in (0, 0.5)"));
        if (!(BurstBits == 0 || (BurstBits >= 1 && double.IsFinite(BurstBits))))
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"task '{task}': trained channel burst length {BurstBits} is neither 0 nor a finite length of at least 1 bit"));
    }

    public override string ToString() => BurstBits > 0
        ? string.Create(CultureInfo.InvariantCulture, $"BER {Ber:G3} in bursts of {BurstBits:G3} bits")
        : string.Create(CultureInfo.InvariantCulture, $"BER {Ber:G3}");
}
