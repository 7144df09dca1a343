namespace Cleave.Codecs.Quantization;

/// <summary>
/// Asymmetric uniform quantization: <c>q = clamp(round(x / Scale) + ZeroPoint, 0, 2^Bits - 1)</c> and
/// <c>x' = (q - ZeroPoint) * Scale</c>. The zero point is an integer, so 0 is exact whenever it lies in range.
/// </summary>
public readonly record struct QuantizationParameters(float Scale, int ZeroPoint, int Bits)
{
    public const int MinBits = 1, MaxBits = 16;

    public int MaxLevel => (1 << Bits) - 1;

    /// <summary>
    /// Parameters whose grid covers [min, max] with step (max - min) / (2^bits - 1), so every value in range is
    /// reconstructed within Scale / 2. Degenerate ranges get a usable grid instead of a zero or infinite scale.
    /// </summary>
    public static QuantizationParameters FromRange(float min, float max, int bits)
    {
        if (bits is < MinBits or > MaxBits) throw new ArgumentOutOfRangeException(nameof(bits), bits, "bits must be 1..16");
        if (!float.IsFinite(min) || !float.IsFinite(max) || min > max) { min = 0; max = 0; } // no finite values at all
        int levels = (1 << bits) - 1;
        double magnitude = Math.Max(Math.Abs((double)min), Math.Abs((double)max));
        double scale = ((double)max - min) / levels;
        // float32 cannot resolve steps finer than ~2^-20 of the magnitude, and a finer step would push the zero point
        // past 2^20; a constant tensor (scale 0) gets a step equal to its magnitude so that the constant is exact.
        double floor = magnitude * Math.ScaleB(1.0, -20);
        if (max == min) scale = magnitude > 0 ? magnitude : 1.0;
        else if (scale < floor) scale = floor;
        float scaleF = (float)scale;
        if (scaleF < scale) scaleF = MathF.BitIncrement(scaleF); // round the step up so the grid still spans the range
        if (!float.IsFinite(scaleF)) scaleF = float.MaxValue;
        int zeroPoint = (int)Math.Round(-min / (double)scaleF, MidpointRounding.AwayFromZero);
        return new QuantizationParameters(scaleF, zeroPoint, bits);
    }

    public bool IsValid => Bits is >= MinBits and <= MaxBits && float.IsFinite(Scale) && Scale > 0
        && ZeroPoint is > -(1 << 24) and < (1 << 24);
}
