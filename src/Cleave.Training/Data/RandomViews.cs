using Cleave.Models.Preprocessing;

namespace Cleave.Training.Data;

/// <summary>
/// Extra views of each image for training sets that are cached once (<see cref="Distillation.CutFeatureCache"/>): a random
/// resized crop (area <see cref="MinCropArea"/>..1 of the image, aspect 3/4..4/3), a mirror with probability ½ and a
/// brightness/contrast/saturation jitter of up to ±<see cref="Jitter"/>, applied to the decoded 8-bit image, so the
/// frozen head and the teacher see each view as they would see a photo. View k of an image is drawn from
/// <see cref="Seed"/>, the image's name and k: the same on every run and machine. Why: with a few hundred images a
/// distilled student fits the cached samples within a hundred steps; random views are the usual cure, and computing
/// them before caching keeps every training step as cheap as it was.
/// </summary>
public sealed record RandomViews(int Count, int Seed, double MinCropArea = 0.35, double Jitter = 0.2)
{
    /// <summary>Most views per image (each costs a head and a teacher run and a cached cut tensor).</summary>
    public const int MaxCount = 64;

    /// <summary>Checks the settings; a bad one is an <see cref="ArgumentException"/> naming it.</summary>
    public RandomViews Validated()
    {
        if (Count is < 0 or > MaxCount) throw new ArgumentException($"random views: {Count} per image is outside 0..{MaxCount}");
        if (!(MinCropArea is > 0 and <= 1)) throw new ArgumentException($"random views: smallest crop area {MinCropArea} is outside (0, 1]");
        if (!(Jitter is >= 0 and < 1)) throw new ArgumentException($"random views: jitter {Jitter} is outside [0, 1)");
        return this;
    }

    /// <summary>View <paramref name="index"/> of <paramref name="image"/> named <paramref name="name"/>.</summary>
    public RgbImage Make(RgbImage image, string name, int index)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(name);
        var random = new Random(ViewSeed(name, index));
        double area = MinCropArea + random.NextDouble() * (1 - MinCropArea);
        double aspect = Math.Exp(Math.Log(3.0 / 4) + random.NextDouble() * Math.Log(16.0 / 9));
        int w = Math.Clamp((int)Math.Round(image.Width * Math.Sqrt(area * aspect)), 1, image.Width);
        int h = Math.Clamp((int)Math.Round(image.Height * Math.Sqrt(area / aspect)), 1, image.Height);
        int left = random.Next(image.Width - w + 1), top = random.Next(image.Height - h + 1);
        bool mirror = random.Next(2) == 1;
        double brightness = 1 + (random.NextDouble() * 2 - 1) * Jitter;
        double contrast = 1 + (random.NextDouble() * 2 - 1) * Jitter;
        double saturation = 1 + (random.NextDouble() * 2 - 1) * Jitter;

        var pixels = new byte[checked(w * h * 3)];
        double meanLevel = 0;
        var rgb = new double[pixels.Length];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int from = ((top + y) * image.Width + left + (mirror ? w - 1 - x : x)) * 3, to = (y * w + x) * 3;
                for (int c = 0; c < 3; c++) meanLevel += rgb[to + c] = image.Pixels[from + c] * brightness;
            }
        meanLevel /= rgb.Length;
        for (int i = 0; i < rgb.Length; i += 3)
        {
            double grey = 0.299 * rgb[i] + 0.587 * rgb[i + 1] + 0.114 * rgb[i + 2];
            for (int c = 0; c < 3; c++)
            {
                double v = grey + (rgb[i + c] - grey) * saturation;
                pixels[i + c] = (byte)Math.Clamp(Math.Round((v - meanLevel) * contrast + meanLevel), 0, 255);
            }
        }
        return new RgbImage(w, h, pixels);
    }

    /// <summary>FNV-1a over the name's UTF-16 units, mixed with the seed and the view's index: stable across processes.</summary>
    private int ViewSeed(string name, int index)
    {
        uint hash = 2166136261;
        foreach (char ch in name) hash = (hash ^ ch) * 16777619;
        hash = (hash ^ (uint)index) * 16777619;
        return unchecked((int)(hash ^ (uint)Seed * 2654435761u));
    }
}
