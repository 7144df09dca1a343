namespace Cleave.Benchmarks;

/// <summary>
/// Smooth synthetic feature maps (low-frequency waves plus noise per channel), so context-coded layouts are the ones
/// chosen and decoded, as on real CNN features. Shared by the context and source-coding benchmarks.
/// </summary>
internal static class SmoothFeatureMaps
{
    public static float[] Create(int channels, int height, int width)
    {
        var random = new Random(7);
        var values = new float[channels * height * width];
        for (int c = 0; c < channels; c++)
        {
            double fx = 0.1 + 0.3 * random.NextDouble(), fy = 0.1 + 0.3 * random.NextDouble(), phase = 6 * random.NextDouble();
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    values[(c * height + y) * width + x] = (float)(Math.Sin(fx * x + phase) + Math.Cos(fy * y) + 0.3 * (random.NextDouble() - 0.5));
        }
        return values;
    }
}
