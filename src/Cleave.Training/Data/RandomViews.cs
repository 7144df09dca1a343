using Cleave.Models.Preprocessing;

namespace Cleave.Training.Data;

/// <summary>
/// Extra views of each image for training sets that are cached once (<see cref="Distillation.CutFeatureCache"/>): a random
/// resized crop (area <see cref="MinCropArea"/>..1 of the image, aspect 3/4..4/3), a mirror with probability ½ and a
/// brightness/contrast/saturation jitter of up to ±<see cref="Jitter"/>, applied to the decoded 8-bit image, so the
/// frozen head and the teacher see each view as they would see a photo. View k of an image is drawn from
/// <see cref="Seed"/>, the image's name and k: the same on every run and machine. Why: with a few hundred images a
/// distilled student fits the cached samples within a hundred steps; random views are the usual cure, and computing
/// them before caching keeps every training step as cheap as it was. With <see cref="Mix"/> every view is also mixed
/// with a random crop of a partner image (<see cref="PartnerOf"/>, drawn the same way): inputs that no single photo gives.
/// </summary>
public sealed record RandomViews(int Count, int Seed, double MinCropArea = 0.35, double Jitter = 0.2, ViewMix Mix = ViewMix.None)
{
    /// <summary>Most views per image (each costs a head and a teacher run and a cached cut tensor).</summary>
    public const int MaxCount = 64;

    /// <summary>Checks the settings; a bad one is an <see cref="ArgumentException"/> naming it.</summary>
    public RandomViews Validated()
    {
        if (Count is < 0 or > MaxCount) throw new ArgumentException($"random views: {Count} per image is outside 0..{MaxCount}");
        if (!(MinCropArea is > 0 and <= 1)) throw new ArgumentException($"random views: smallest crop area {MinCropArea} is outside (0, 1]");
        if (!(Jitter is >= 0 and < 1)) throw new ArgumentException($"random views: jitter {Jitter} is outside [0, 1)");
        if (!Enum.IsDefined(Mix)) throw new ArgumentException($"random views: unknown mix {(int)Mix}");
        if (Mix != ViewMix.None && Count == 0) throw new ArgumentException($"random views: mixing ({Mix}) needs at least one view per image");
        return this;
    }

    /// <summary>View <paramref name="index"/> of <paramref name="image"/> named <paramref name="name"/> (unmixed views only).</summary>
    public RgbImage Make(RgbImage image, string name, int index)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(name);
        if (Mix != ViewMix.None) throw new InvalidOperationException($"a {Mix} view needs its partner image (PartnerOf, then Make with the partner)");
        return View(image, new Random(ViewSeed(name, index)));
    }

    /// <summary>
    /// Mixed view <paramref name="index"/> of <paramref name="image"/>: the unmixed view (the same crop, mirror and jitter
    /// as without <see cref="Mix"/>) blended with, or with a rectangle replaced by, a random crop of <paramref name="partner"/>
    /// at the view's aspect, resized bilinearly to the view's size. Everything is drawn from the seed, the name and the index.
    /// </summary>
    public RgbImage Make(RgbImage image, string name, int index, RgbImage partner)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(partner);
        if (Mix == ViewMix.None) throw new InvalidOperationException("a partner image is only used by mixed views (Mix is None)");
        var random = new Random(ViewSeed(name, index));
        var view = View(image, random);
        int w = view.Width, h = view.Height;
        var other = PartnerCrop(partner, w, h, random);
        double lambda = random.NextDouble();
        var pixels = (byte[])view.Pixels.Clone();
        if (Mix == ViewMix.Mixup)
        {
            for (int i = 0; i < pixels.Length; i++)
                pixels[i] = (byte)Math.Clamp(Math.Round(lambda * view.Pixels[i] + (1 - lambda) * other[i]), 0, 255);
        }
        else
        {
            // CutMix's box: sides √(1−λ) of the view's, centred anywhere, cut off at the border (so the pasted share is at most 1−λ).
            double side = Math.Sqrt(1 - lambda);
            int rw = (int)Math.Round(w * side), rh = (int)Math.Round(h * side);
            int cx = random.Next(w), cy = random.Next(h);
            int x0 = Math.Clamp(cx - rw / 2, 0, w), x1 = Math.Clamp(cx - rw / 2 + rw, 0, w);
            int y0 = Math.Clamp(cy - rh / 2, 0, h), y1 = Math.Clamp(cy - rh / 2 + rh, 0, h);
            for (int y = y0; y < y1; y++)
                for (int i = (y * w + x0) * 3; i < (y * w + x1) * 3; i++)
                    pixels[i] = (byte)Math.Clamp(Math.Round(other[i]), 0, 255);
        }
        return new RgbImage(w, h, pixels);
    }

    /// <summary>
    /// The partner of view <paramref name="index"/> of the image at position <paramref name="self"/> among
    /// <paramref name="images"/> training images: another image (never itself), drawn from the seed, the name and the index.
    /// </summary>
    public int PartnerOf(string name, int index, int self, int images)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (images < 2) throw new ArgumentException($"mixed views need at least 2 images, got {images}");
        ArgumentOutOfRangeException.ThrowIfNegative(self);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(self, images);
        // A stream of its own (the view's seed with other bits set), so adding mixing leaves every crop as it was.
        int offset = new Random(ViewSeed(name, index) ^ 0x5bd1e995).Next(1, images);
        return (self + offset) % images;
    }

    /// <summary>The crop, mirror and jitter of one view, drawn from <paramref name="random"/> in a fixed order.</summary>
    private RgbImage View(RgbImage image, Random random)
    {
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

    /// <summary>
    /// A crop of <paramref name="partner"/> (area <see cref="MinCropArea"/>..1, the view's aspect, mirrored with probability ½)
    /// resampled bilinearly to <paramref name="w"/>x<paramref name="h"/>, unrounded (rounding happens once, after mixing).
    /// </summary>
    private double[] PartnerCrop(RgbImage partner, int w, int h, Random random)
    {
        double area = (MinCropArea + random.NextDouble() * (1 - MinCropArea)) * partner.Width * partner.Height;
        double cw = Math.Sqrt(area * w / h), ch = cw * h / w;
        double shrink = Math.Max(1, Math.Max(cw / partner.Width, ch / partner.Height));
        cw /= shrink;
        ch /= shrink;
        double left = random.NextDouble() * (partner.Width - cw), top = random.NextDouble() * (partner.Height - ch);
        bool mirror = random.Next(2) == 1;
        var result = new double[checked(w * h * 3)];
        for (int y = 0; y < h; y++)
        {
            // Pixel centres map to pixel centres; samples outside the partner are clamped to its edge.
            double sy = Math.Clamp(top + (y + 0.5) * ch / h - 0.5, 0, partner.Height - 1);
            int y0 = (int)sy, y1 = Math.Min(y0 + 1, partner.Height - 1);
            double fy = sy - y0;
            for (int x = 0; x < w; x++)
            {
                int xs = mirror ? w - 1 - x : x;
                double sx = Math.Clamp(left + (xs + 0.5) * cw / w - 0.5, 0, partner.Width - 1);
                int x0 = (int)sx, x1 = Math.Min(x0 + 1, partner.Width - 1);
                double fx = sx - x0;
                for (int c = 0; c < 3; c++)
                {
                    double top0 = partner.Pixels[(y0 * partner.Width + x0) * 3 + c] * (1 - fx) + partner.Pixels[(y0 * partner.Width + x1) * 3 + c] * fx;
                    double bottom = partner.Pixels[(y1 * partner.Width + x0) * 3 + c] * (1 - fx) + partner.Pixels[(y1 * partner.Width + x1) * 3 + c] * fx;
                    result[(y * w + x) * 3 + c] = top0 * (1 - fy) + bottom * fy;
                }
            }
        }
        return result;
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
