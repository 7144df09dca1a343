using System.Globalization;
using System.Text;

namespace Cleave.Models.Preprocessing;

/// <summary>
/// A different camera, applied to decoded images before preprocessing: Gaussian blur (a softer lens), a gain below 1
/// (low light, no re-exposure) and Gaussian sensor noise added after the gain (read noise dominates in the dark), then
/// rounding back to 8 bits. Spec text <c>blur=S,noise=N,gain=G[,seed=K]</c>: S the blur's standard deviation in pixels
/// of the stored image, N the noise's standard deviation in 8-bit levels, G the gain. The noise of an image is drawn
/// from <see cref="Seed"/> and the image's name, so the same image always gets the same shift and no image shares its
/// noise with another.
/// </summary>
public sealed record CameraShift(double Blur, double Noise, double Gain, int Seed)
{
    /// <summary>Largest accepted blur (standard deviation, pixels): keeps the kernel (6σ + 1 taps) small.</summary>
    public const double MaxBlur = 50;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"blur={Blur},noise={Noise},gain={Gain},seed={Seed}");

    /// <summary>Parses <c>blur=S,noise=N,gain=G[,seed=K]</c>; a key left out means no change (blur 0, noise 0, gain 1, seed 0).</summary>
    public static CameraShift Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        double blur = 0, noise = 0, gain = 1;
        int seed = 0;
        foreach (string part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0) throw new FormatException($"camera shift '{spec}': '{part}' is not key=value");
            string key = part[..eq], value = part[(eq + 1)..];
            if (key == "seed")
            {
                if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out seed))
                    throw new FormatException($"camera shift: seed={value} is not an integer");
                continue;
            }
            if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                throw new FormatException($"camera shift: {key}={value} is not a number");
            switch (key)
            {
                case "blur" when v is >= 0 and <= MaxBlur: blur = v; break;
                case "noise" when v is >= 0 and <= 255: noise = v; break;
                case "gain" when v is > 0 and <= 16: gain = v; break;
                case "blur" or "noise" or "gain":
                    throw new FormatException($"camera shift: {key}={value} is out of range (blur 0..{MaxBlur}, noise 0..255, gain above 0 up to 16)");
                default: throw new FormatException($"camera shift: unknown key '{key}' (blur, noise, gain, seed)");
            }
        }
        return new CameraShift(blur, noise, gain, seed);
    }

    /// <summary>The shifted copy of <paramref name="image"/>; <paramref name="name"/> (e.g. the file name) picks its noise.</summary>
    public RgbImage Apply(RgbImage image, string name)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(name);
        int w = image.Width, h = image.Height;
        var values = new float[image.Pixels.Length];
        for (int i = 0; i < values.Length; i++) values[i] = image.Pixels[i];
        if (Blur > 0) GaussianBlur(values, w, h, Blur);
        var random = new Random(unchecked(Seed * 16777619 ^ StableHash(name)));
        var output = new byte[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            double v = values[i] * Gain;
            if (Noise > 0) v += Noise * StandardNormal(random);
            output[i] = (byte)Math.Clamp(Math.Round(v), 0, 255);
        }
        return new RgbImage(w, h, output);
    }

    /// <summary>Separable Gaussian, taps out to 3σ, edges clamped; in place on interleaved RGB.</summary>
    private static void GaussianBlur(float[] values, int w, int h, double sigma)
    {
        int radius = Math.Max(1, (int)Math.Ceiling(3 * sigma));
        var kernel = new float[2 * radius + 1];
        double total = 0;
        for (int k = -radius; k <= radius; k++) total += kernel[k + radius] = (float)Math.Exp(-k * k / (2 * sigma * sigma));
        for (int k = 0; k < kernel.Length; k++) kernel[k] = (float)(kernel[k] / total);
        var scratch = new float[values.Length];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                {
                    float sum = 0;
                    for (int k = -radius; k <= radius; k++) sum += kernel[k + radius] * values[(y * w + Math.Clamp(x + k, 0, w - 1)) * 3 + c];
                    scratch[(y * w + x) * 3 + c] = sum;
                }
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                {
                    float sum = 0;
                    for (int k = -radius; k <= radius; k++) sum += kernel[k + radius] * scratch[(Math.Clamp(y + k, 0, h - 1) * w + x) * 3 + c];
                    values[(y * w + x) * 3 + c] = sum;
                }
    }

    private static double StandardNormal(Random random)
    {
        // Box-Muller; 1 - NextDouble() is in (0, 1], so the logarithm is finite.
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>FNV-1a over UTF-8: string.GetHashCode differs between processes, and the shift must not.</summary>
    private static int StableHash(string text)
    {
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(text)) hash = (hash ^ b) * 16777619;
        return unchecked((int)hash);
    }
}
