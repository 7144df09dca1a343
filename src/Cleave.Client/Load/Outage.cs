namespace Cleave.Runtime.Load;

/// <summary>From the first failed try to the first answer after it, in seconds since the test began.</summary>
public sealed record Outage(double StartSeconds, double EndSeconds)
{
    public double Seconds => EndSeconds - StartSeconds;

    /// <summary>False when no answer came after it before the test ended.</summary>
    public bool Resolved { get; init; } = true;
}
