namespace Cleave.Codecs;

/// <summary>
/// Reproducible stand-ins for real features, used where no model is at hand (the codec benchmark's default input,
/// property tests, micro-benchmarks). Real features come from <c>cleave dump</c>.
/// </summary>
internal static class SyntheticTensors
{
    /// <summary>
    /// A ReLU-like activation: each element is exactly zero with probability <paramref name="zeroFraction"/>, otherwise
    /// log-normal (median e^-1, sigma 1), so the positive part is heavy-tailed like post-activation features.
    /// </summary>
    public static float[] ReluLike(int count, int seed = 1, double zeroFraction = 0.5)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            if (random.NextDouble() < zeroFraction) continue;
            values[i] = (float)Math.Exp(-1.0 + Gaussian(random));
        }
        return values;
    }

    /// <summary>Standard normal values (a pre-activation or residual-stream stand-in).</summary>
    public static float[] Gaussian(int count, int seed = 1, double mean = 0, double std = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(mean + std * Gaussian(random));
        return values;
    }

    private static double Gaussian(Random random)
    {
        // Box-Muller; 1 - NextDouble() avoids log(0).
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
