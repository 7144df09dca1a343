using System.Globalization;

namespace Cleave.Codecs;

/// <summary>
/// Per-channel gains of <c>rans-ifc:...,gains=HEX</c>: before quantization channel c is multiplied by g_c, after
/// decoding divided by it, so channel c's step is the grid's step / g_c. Why: a uniform step minimizes squared error,
/// but the tail does not weigh every channel alike. With the tail's sensitivity w_c measured on calibration images
/// (how much its output moves per unit of noise in channel c, <c>cleave calibrate</c>), the steps that minimize the
/// weighted error at a given rate are proportional to 1/sqrt(w_c) (high-rate theory), i.e. g_c ∝ sqrt(w_c): channels
/// the tail barely reads collapse onto few symbols and stop costing bytes. The gains travel in the codec's parameters
/// (one byte each), so a decoder needs nothing but the frame.
/// </summary>
/// <remarks>
/// A gain is coded as one byte k: g = 2^((k − 128)/16), 1/16 octave apart, 2^-8 .. 2^7.94. Channels are the axis
/// rank − 3 (C of [N, C, H, W] or [C, H, W]); element i belongs to channel (i / (H·W)) mod C.
/// </remarks>
public sealed class ChannelGains
{
    /// <summary>Most channels a gain list may hold (keeps the parameter block far below its 64 KiB field).</summary>
    public const int MaxChannels = 4096;

    private static readonly float[] Gain = BuildTable(1);
    private static readonly float[] InverseGain = BuildTable(-1);

    private readonly byte[] _codes;

    public ChannelGains(ReadOnlySpan<byte> codes)
    {
        if (codes.Length is < 1 or > MaxChannels)
            throw new ArgumentOutOfRangeException(nameof(codes), codes.Length, $"gains must list 1..{MaxChannels} channels");
        _codes = codes.ToArray();
    }

    /// <summary>The gain codes, one byte per channel.</summary>
    public ReadOnlySpan<byte> Codes => _codes;

    public int Channels => _codes.Length;

    /// <summary>The gain of code k: the float32 nearest 2^((k − 128)/16).</summary>
    public static float GainOf(byte code) => Gain[code];

    /// <summary>The code whose gain is nearest <paramref name="gain"/> on the log scale (clamped to the code range).</summary>
    public static byte CodeFor(double gain)
    {
        if (!(gain > 0) || !double.IsFinite(gain)) throw new ArgumentOutOfRangeException(nameof(gain), gain, "a gain must be finite and > 0");
        return (byte)Math.Clamp((int)Math.Round(128 + 16 * Math.Log2(gain), MidpointRounding.AwayFromZero), 0, 255);
    }

    /// <summary>Gains from sensitivities: g_c = (w_c / geometric mean)^exponent, coded (exponent 0.5 is the high-rate optimum).</summary>
    public static ChannelGains FromSensitivities(ReadOnlySpan<double> sensitivities, double exponent = 0.5)
    {
        if (sensitivities.Length is < 1 or > MaxChannels)
            throw new ArgumentOutOfRangeException(nameof(sensitivities), sensitivities.Length, $"need 1..{MaxChannels} channels");
        if (!double.IsFinite(exponent) || exponent < 0 || exponent > 4) throw new ArgumentOutOfRangeException(nameof(exponent), exponent, "exponent must be 0..4");
        // A channel the tail ignores entirely (w = 0) gets the smallest measured positive weight's floor, not -inf.
        double floor = double.MaxValue;
        foreach (double w in sensitivities) if (w > 0 && w < floor) floor = w;
        if (floor == double.MaxValue) floor = 1;
        double logSum = 0;
        foreach (double w in sensitivities) logSum += Math.Log(Math.Max(w, floor));
        double logMean = logSum / sensitivities.Length;
        var codes = new byte[sensitivities.Length];
        for (int c = 0; c < codes.Length; c++)
            codes[c] = CodeFor(Math.Exp(exponent * (Math.Log(Math.Max(sensitivities[c], floor)) - logMean)));
        return new ChannelGains(codes);
    }

    /// <summary>Parses the spec form: two hex digits per channel (either case).</summary>
    public static ChannelGains Parse(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        if (hex.Length == 0 || hex.Length % 2 != 0 || hex.Length > 2 * MaxChannels)
            throw new ArgumentException($"codec 'rans-ifc': gains= needs two hex digits per channel (1..{MaxChannels} channels), got {hex.Length} characters");
        var codes = new byte[hex.Length / 2];
        for (int c = 0; c < codes.Length; c++)
            if (!byte.TryParse(hex.AsSpan(2 * c, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out codes[c]))
                throw new ArgumentException($"codec 'rans-ifc': gains= holds '{hex.Substring(2 * c, 2)}', not two hex digits");
        return new ChannelGains(codes);
    }

    /// <summary>The canonical spec form: two lowercase hex digits per channel.</summary>
    public override string ToString() => Convert.ToHexStringLower(_codes);

    /// <summary>Elements per channel plane (H·W) for <paramref name="shape"/>, or an explanation why the gains do not fit it.</summary>
    public bool TryPlane(TensorShape shape, out int plane, out string? problem)
    {
        plane = 0;
        problem = null;
        if (shape.Rank < 3)
        {
            problem = $"channel gains need a tensor of rank >= 3 (channels at axis rank-3), got rank {shape.Rank}";
            return false;
        }
        if (shape[shape.Rank - 3] != Channels)
        {
            problem = $"the gains list {Channels} channels, the tensor has {shape[shape.Rank - 3]} at axis {shape.Rank - 3}";
            return false;
        }
        // An empty tensor may have huge other dimensions; its plane is never used, so clamp instead of overflowing.
        plane = (int)Math.Min(int.MaxValue, (long)shape[shape.Rank - 1] * shape[shape.Rank - 2]);
        return true;
    }

    /// <summary>destination = values · g_channel (NaN and ±Inf pass through; a finite product beyond float32 becomes ±Inf and saturates in the quantizer).</summary>
    public void Apply(ReadOnlySpan<float> values, int plane, Span<float> destination) => Scale(values, plane, destination, Gain);

    /// <summary>values /= g_channel, as values · (1/g) with the float32 nearest 2^(−(k − 128)/16).</summary>
    public void Invert(Span<float> values, int plane) => Scale(values, plane, values, InverseGain);

    private void Scale(ReadOnlySpan<float> values, int plane, Span<float> destination, float[] table)
    {
        if (plane <= 0) return;
        int channel = 0;
        for (int start = 0; start < values.Length; start += plane)
        {
            int length = Math.Min(plane, values.Length - start);
            float g = table[_codes[channel]];
            var source = values.Slice(start, length);
            var target = destination.Slice(start, length);
            for (int i = 0; i < source.Length; i++) target[i] = source[i] * g;
            if (++channel == _codes.Length) channel = 0;
        }
    }

    private static float[] BuildTable(int sign)
    {
        var table = new float[256];
        for (int k = 0; k < 256; k++) table[k] = (float)Math.Pow(2, sign * (k - 128) / 16.0);
        return table;
    }
}
