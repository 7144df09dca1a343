using System.Globalization;

namespace Cleave.Evaluation.Classification;

/// <summary>
/// Which confidence threshold an evaluation runs a split folder's early exit (<c>exit.json</c>) at: the calibrated one
/// stored with the split (the default, also when nobody asked), a given one in [0, 1], or none (the exit is not run and
/// the results are those of the split alone).
/// </summary>
public sealed record ExitThresholdChoice
{
    private ExitThresholdChoice(double? value, bool off, bool given)
    {
        Value = value;
        Off = off;
        Given = given;
    }

    /// <summary>The threshold to use instead of the calibrated one (null: the calibrated one).</summary>
    public double? Value { get; }

    /// <summary>The exit is not run.</summary>
    public bool Off { get; }

    /// <summary>Whether someone asked for an exit (a number or <c>calibrated</c>): then a split folder without one is an error.</summary>
    public bool Given { get; }

    /// <summary>The default: the calibrated threshold where a split folder has an exit, nothing where it has none.</summary>
    public static ExitThresholdChoice Default { get; } = new(null, off: false, given: false);

    public static ExitThresholdChoice None { get; } = new(null, off: true, given: true);

    /// <summary>Parses <c>T</c> (a number in [0, 1]), <c>calibrated</c> or <c>off</c>; null or empty is <see cref="Default"/>.</summary>
    /// <exception cref="FormatException">anything else, with the accepted forms</exception>
    public static ExitThresholdChoice Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return Default;
        string t = text.Trim();
        if (t.Equals("off", StringComparison.OrdinalIgnoreCase)) return None;
        if (t.Equals("calibrated", StringComparison.OrdinalIgnoreCase)) return new(null, off: false, given: true);
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value is >= 0 and <= 1)
            return new(value, off: false, given: true);
        throw new FormatException($"the exit threshold '{text}' is not a confidence in [0, 1], 'calibrated' or 'off'");
    }

    public override string ToString() => Off ? "off" : Value is double v ? v.ToString(CultureInfo.InvariantCulture) : "calibrated";
}
