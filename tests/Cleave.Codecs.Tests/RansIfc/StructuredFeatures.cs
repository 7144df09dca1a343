namespace Cleave.Codecs.Tests.RansIfc;

/// <summary>
/// Synthetic post-ReLU features whose zeros are not independent, as in real feature maps (SyntheticTensors.ReluLike
/// draws every element independently, which leaves no structure for a sparse layout to exploit).
/// </summary>
internal static class StructuredFeatures
{
    /// <summary>
    /// [C, H, W] with a fraction of channels entirely zero ("dead" channels) and the others ReLU-like with half zeros.
    /// </summary>
    public static float[] DeadChannels(int channels, int height, int width, double deadFraction, int seed)
    {
        var random = new Random(seed);
        int plane = height * width;
        var values = new float[channels * plane];
        for (int c = 0; c < channels; c++)
        {
            if (random.NextDouble() < deadFraction) continue;
            var live = SyntheticTensors.ReluLike(plane, seed: seed * 1000 + c, zeroFraction: 0.5);
            live.CopyTo(values, c * plane);
        }
        return values;
    }

    /// <summary>
    /// [C, H, W] ReLU of a smooth random field per channel plus a little noise: zeros come in spatial blobs. The
    /// threshold puts about <paramref name="zeroFraction"/> of the elements at zero.
    /// </summary>
    public static float[] SpatialBlobs(int channels, int height, int width, double zeroFraction, int seed)
    {
        var random = new Random(seed);
        int plane = height * width;
        var values = new float[channels * plane];
        // The field is a sum of a few low-frequency waves: unit variance per wave pair, so the zero-fraction quantile of
        // a normal distribution gives the threshold.
        double threshold = NormalQuantile(zeroFraction);
        for (int c = 0; c < channels; c++)
        {
            const int waves = 4;
            var fx = new double[waves]; var fy = new double[waves]; var phase = new double[waves];
            for (int k = 0; k < waves; k++)
            {
                fx[k] = random.NextDouble() * 0.3;
                fy[k] = random.NextDouble() * 0.3;
                phase[k] = random.NextDouble() * 2 * Math.PI;
            }
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    double field = 0;
                    for (int k = 0; k < waves; k++) field += Math.Cos(fx[k] * x + fy[k] * y + phase[k]);
                    field = field * Math.Sqrt(2.0 / waves) + 0.1 * (random.NextDouble() - 0.5);
                    values[c * plane + y * width + x] = (float)Math.Max(0, field - threshold);
                }
        }
        return values;
    }

    private static double NormalQuantile(double p)
    {
        // Bisection on the error function is plenty for a test generator.
        double lo = -8, hi = 8;
        for (int i = 0; i < 60; i++)
        {
            double mid = (lo + hi) / 2;
            if (0.5 * (1 + Erf(mid / Math.Sqrt(2))) < p) lo = mid; else hi = mid;
        }
        return (lo + hi) / 2;
    }

    private static double Erf(double x)
    {
        // Abramowitz-Stegun 7.1.26, absolute error below 1.5e-7.
        double t = 1 / (1 + 0.3275911 * Math.Abs(x));
        double y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
        return x >= 0 ? y : -y;
    }
}
