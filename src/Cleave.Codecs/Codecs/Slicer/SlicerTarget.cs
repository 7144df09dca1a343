using System.Globalization;

namespace Cleave.Codecs;

/// <summary>What the <c>target=</c> mode searches for: none (fixed parameters), a distortion or a rate.</summary>
public enum SlicerTargetKind : byte
{
    None = 0,
    /// <summary>The smallest frame whose SNR is at least the given number of dB.</summary>
    Snr = 1,
    /// <summary>The best SNR whose whole frame fits the given number of bytes.</summary>
    Bytes = 2,
}

/// <summary>A <c>target=snr:S</c> or <c>target=bytes:B</c> request, searched per tensor by <see cref="SlicerTargetSearch"/>.</summary>
public readonly record struct SlicerTarget(SlicerTargetKind Kind, double Value)
{
    public const double MinSnrDb = -20, MaxSnrDb = 200;

    public static SlicerTarget None => default;

    public static SlicerTarget Parse(string text)
    {
        int colon = text.IndexOf(':');
        string kind = colon < 0 ? text : text[..colon].Trim().ToLowerInvariant();
        string number = colon < 0 ? "" : text[(colon + 1)..].Trim();
        if (kind == "snr" && double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double db)
            && (float)db >= MinSnrDb && (float)db <= MaxSnrDb)
            return new SlicerTarget(SlicerTargetKind.Snr, (float)db);
        if (kind == "bytes" && uint.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out uint bytes) && bytes > 0)
            return new SlicerTarget(SlicerTargetKind.Bytes, bytes);
        throw new ArgumentException($"codec 'slicer': target={text} is not snr:<dB in {MinSnrDb}..{MaxSnrDb}> or bytes:<count >= 1>");
    }

    public override string ToString() => Kind switch
    {
        SlicerTargetKind.Snr => "snr:" + ((float)Value).ToString(CultureInfo.InvariantCulture),
        SlicerTargetKind.Bytes => "bytes:" + ((uint)Value).ToString(CultureInfo.InvariantCulture),
        _ => "none",
    };
}
