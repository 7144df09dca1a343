using System.Globalization;

namespace Cleave.Runtime.Serving.Security;

/// <summary>
/// What one caller may use: <see cref="RequestsPerSecond"/> sustained with bursts of <see cref="Burst"/>, and at most
/// <see cref="MaxConcurrent"/> requests in flight across all its streams. Zero means unlimited. Written
/// <c>rate=10,burst=20,concurrent=4</c> in a key file line or on the command line.
/// </summary>
public sealed record ClientQuota(double RequestsPerSecond = 0, int Burst = 0, int MaxConcurrent = 0)
{
    public static ClientQuota Unlimited { get; } = new();

    public bool IsUnlimited => RequestsPerSecond <= 0 && MaxConcurrent <= 0;

    /// <summary>The burst actually allowed: at least one request, by default one second's worth.</summary>
    public int EffectiveBurst => Burst > 0 ? Burst : (int)Math.Max(1, Math.Ceiling(RequestsPerSecond));

    /// <summary>Parses <c>rate=R,burst=B,concurrent=C</c> (any subset, any order); empty text is unlimited.</summary>
    public static ClientQuota Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var quota = Unlimited;
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new FormatException($"quota '{part}' is not name=value (rate=R, burst=B, concurrent=C)");
            string name = part[..eq], value = part[(eq + 1)..];
            quota = name switch
            {
                "rate" => quota with { RequestsPerSecond = NonNegative(double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture), part) },
                "burst" => quota with { Burst = (int)NonNegative(int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture), part) },
                "concurrent" => quota with { MaxConcurrent = (int)NonNegative(int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture), part) },
                _ => throw new FormatException($"unknown quota '{name}' (rate, burst, concurrent)"),
            };
        }
        return quota;
    }

    public override string ToString() => IsUnlimited ? "" : string.Create(CultureInfo.InvariantCulture,
        $"rate={RequestsPerSecond:R},burst={Burst},concurrent={MaxConcurrent}");

    private static double NonNegative(double value, string part) =>
        double.IsFinite(value) && value >= 0 && value <= 1e9 ? value : throw new FormatException($"quota '{part}' must be a number from 0 to 1e9");
}
