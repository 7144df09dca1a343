using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Cleave.Training.Data;

/// <summary>
/// Image augmentation on a normalised NCHW batch, driven by a seeded <see cref="Random"/> so runs repeat exactly:
/// random resized crop (area and aspect ratio drawn, resized back bilinearly), horizontal flip, and colour jitter
/// (brightness, contrast, saturation) applied in pixel space, which the per-channel normalisation maps to and from.
/// </summary>
public sealed record Augmentation
{
    /// <summary>Smallest crop area as a fraction of the image (1 disables cropping).</summary>
    public double MinCropArea { get; init; } = 0.35;
    public bool Flip { get; init; } = true;
    /// <summary>Largest relative change of brightness, contrast and saturation (0 disables jitter).</summary>
    public double Jitter { get; init; } = 0.2;
    /// <summary>Per-channel normalisation: normalised = (pixel - Mean) * Scale.</summary>
    public required float[] Mean { get; init; }
    public required float[] Scale { get; init; }

    public Tensor Apply(Tensor batch, Random random)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(random);
        using var scope = NewDisposeScope();
        long n = batch.shape[0], channels = batch.shape[1], height = batch.shape[2], width = batch.shape[3];
        var samples = new Tensor[n];
        using var mean = tensor(Mean).reshape(1, -1, 1, 1);
        using var scale = tensor(Scale).reshape(1, -1, 1, 1);
        for (long i = 0; i < n; i++)
        {
            var x = batch.narrow(0, i, 1);
            if (MinCropArea < 1)
            {
                double area = MinCropArea + random.NextDouble() * (1 - MinCropArea);
                double aspect = Math.Exp(Math.Log(3.0 / 4) + random.NextDouble() * (Math.Log(4.0 / 3) - Math.Log(3.0 / 4)));
                long h = Math.Clamp((long)Math.Round(height * Math.Sqrt(area / aspect)), 1, height);
                long w = Math.Clamp((long)Math.Round(width * Math.Sqrt(area * aspect)), 1, width);
                long top = random.NextInt64(height - h + 1), left = random.NextInt64(width - w + 1);
                x = F.interpolate(x.narrow(2, top, h).narrow(3, left, w), [height, width], mode: InterpolationMode.Bilinear, align_corners: false);
            }
            if (Flip && random.Next(2) == 1) x = x.flip(-1);
            if (Jitter > 0)
            {
                var pixels = x / scale + mean;
                double brightness = 1 + (random.NextDouble() * 2 - 1) * Jitter;
                double contrast = 1 + (random.NextDouble() * 2 - 1) * Jitter;
                double saturation = 1 + (random.NextDouble() * 2 - 1) * Jitter;
                pixels = pixels * brightness;
                var average = pixels.mean();
                pixels = (pixels - average) * contrast + average;
                if (channels == 3)
                {
                    var grey = pixels.narrow(1, 0, 1) * 0.299 + pixels.narrow(1, 1, 1) * 0.587 + pixels.narrow(1, 2, 1) * 0.114;
                    pixels = (pixels - grey) * saturation + grey;
                }
                x = (pixels - mean) * scale;
            }
            samples[i] = x;
        }
        return cat(samples, 0).MoveToOuterDisposeScope();
    }
}
