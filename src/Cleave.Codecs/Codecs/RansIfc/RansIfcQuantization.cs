using Cleave.Codecs.Quantization;

namespace Cleave.Codecs;

/// <summary>
/// The quantization step of <c>rans-ifc</c>: asymmetric uniform quantization with an integer zero point (so 0 is exact
/// whenever it lies in range), an optional clipped range (mean ± K std of the finite values) and an optional level
/// count L that need not be a power of two.
/// </summary>
internal static class RansIfcQuantization
{
    /// <summary>
    /// The grid for <paramref name="levels"/> levels over the finite range, clipped to mean ± clip·std when clip &gt; 0.
    /// With levels = 2^bits and no clip this is exactly <see cref="UniformQuantizer.Fit"/>, so the error bound is the
    /// quant codec's: scale / 2 for every value inside the (clipped) range. A fixed <paramref name="range"/> R &gt; 0 uses
    /// [−R, R] whatever the values, so the step does not follow them (a learned code's step stays the one it was trained for).
    /// </summary>
    public static QuantizationParameters Fit(ReadOnlySpan<float> values, int bits, int levels, double clip, double range = 0)
    {
        if (range > 0) return FromRange((float)-range, (float)range, bits, levels);
        var (min, max) = UniformQuantizer.FiniteRange(values);
        if (clip > 0)
        {
            var (mean, std) = MeanAndStd(values);
            min = (float)Math.Max(min, mean - clip * std);
            max = (float)Math.Min(max, mean + clip * std);
            if (min > max) (min, max) = (max, min); // cannot happen with finite stats; keeps the grid well-formed anyway
        }
        if (levels == 1 << bits) return QuantizationParameters.FromRange(min, max, bits);
        return FromRange(min, max, bits, levels);
    }

    /// <summary>
    /// <see cref="QuantizationParameters.FromRange"/> with L - 1 steps instead of 2^bits - 1 (same degenerate-range rules).
    /// The quantizer still clamps at 2^bits - 1, so callers clamp symbols to L - 1 (<see cref="ClampLevels"/>).
    /// </summary>
    private static QuantizationParameters FromRange(float min, float max, int bits, int levels)
    {
        if (!float.IsFinite(min) || !float.IsFinite(max) || min > max) { min = 0; max = 0; }
        double magnitude = Math.Max(Math.Abs((double)min), Math.Abs((double)max));
        double scale = ((double)max - min) / (levels - 1);
        double floor = magnitude * Math.ScaleB(1.0, -20);
        if (max == min) scale = magnitude > 0 ? magnitude : 1.0;
        else if (scale < floor) scale = floor;
        float scaleF = (float)scale;
        if (scaleF < scale) scaleF = MathF.BitIncrement(scaleF);
        if (!float.IsFinite(scaleF)) scaleF = float.MaxValue;
        int zeroPoint = (int)Math.Round(-min / (double)scaleF, MidpointRounding.AwayFromZero);
        return new QuantizationParameters(scaleF, zeroPoint, bits);
    }

    /// <summary>Mean and population standard deviation of the finite values (0, 0 when there are none).</summary>
    private static (double Mean, double Std) MeanAndStd(ReadOnlySpan<float> values)
    {
        double sum = 0, sumSquares = 0;
        long count = 0;
        foreach (float v in values)
        {
            if (!float.IsFinite(v)) continue;
            sum += v;
            sumSquares += (double)v * v;
            count++;
        }
        if (count == 0) return (0, 0);
        double mean = sum / count;
        return (mean, Math.Sqrt(Math.Max(0, sumSquares / count - mean * mean)));
    }

    /// <summary>Quantizes to one 16-bit symbol per value, every symbol below <paramref name="levels"/>.</summary>
    public static void Quantize(ReadOnlySpan<float> values, QuantizationParameters p, int levels, Span<ushort> symbols)
    {
        UniformQuantizer.Quantize(values, p, symbols);
        if (levels < 1 << p.Bits) ClampLevels(symbols[..values.Length], (ushort)(levels - 1));
    }

    private static void ClampLevels(Span<ushort> symbols, ushort top)
    {
        // Values above the clipped range saturate at the top level, as values beyond max do in the quant codec.
        for (int i = 0; i < symbols.Length; i++)
            if (symbols[i] > top) symbols[i] = top;
    }

    /// <summary>x' = (q - zp) · scale for every level, computed as UniformQuantizer.Dequantize does.</summary>
    public static float[] LevelValues(QuantizationParameters p, int levels)
    {
        var table = new float[levels];
        float zero = p.ZeroPoint, scale = p.Scale;
        for (int q = 0; q < levels; q++) table[q] = ((float)q - zero) * scale;
        return table;
    }
}
