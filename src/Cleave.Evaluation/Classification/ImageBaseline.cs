using System.Globalization;
using Cleave.Models.Preprocessing;
using SkiaSharp;

namespace Cleave.Evaluation.Classification;

/// <summary>
/// The naive alternatives to splitting (SC2, Matsubara et al.): <c>local</c> runs the whole model on the device and
/// sends nothing; <c>jpeg:q=Q</c> / <c>webp:q=Q</c> send the input already cropped and resized to the model's input
/// size, encoded at quality Q with SkiaSharp, and the server decodes it and runs the whole model. <c>raw</c> (the
/// float32 tensor at each split) is not an image baseline: sweeps add it as a codec.
/// </summary>
public sealed record ImageBaseline
{
    private ImageBaseline(string kind, int quality) { Kind = kind; Quality = quality; }

    /// <summary>"local", "jpeg" or "webp".</summary>
    public string Kind { get; }

    /// <summary>Encoder quality 1-100 (0 for local).</summary>
    public int Quality { get; }

    public string Spec => Kind == "local" ? "local" : $"{Kind}:q={Quality.ToString(CultureInfo.InvariantCulture)}";

    public static ImageBaseline Local { get; } = new("local", 0);

    public static ImageBaseline Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string s = spec.Trim();
        if (s == "local") return Local;
        int colon = s.IndexOf(':');
        string kind = colon < 0 ? s : s[..colon];
        if (kind is not ("jpeg" or "webp"))
            throw new ArgumentException($"unknown baseline '{spec}': expected local, jpeg:q=Q or webp:q=Q (raw is a codec at a split)");
        string rest = colon < 0 ? "" : s[(colon + 1)..];
        if (!rest.StartsWith("q=", StringComparison.Ordinal)
            || !int.TryParse(rest[2..], NumberStyles.Integer, CultureInfo.InvariantCulture, out int q) || q is < 1 or > 100)
            throw new ArgumentException($"baseline '{spec}' needs a quality q=1..100 (e.g. {kind}:q=75)");
        return new ImageBaseline(kind, q);
    }

    /// <summary>
    /// The 8-bit RGB image the device would send: the central crop resized to the model's input size, with the same
    /// bilinear filter as the model's own preprocessing (so the only loss the baseline adds is the encoder's).
    /// </summary>
    public static RgbImage ResizeForModel(RgbImage image, PreprocessingSpec spec)
    {
        var identity = new PreprocessingSpec
        {
            Width = spec.Width, Height = spec.Height, CropFraction = spec.CropFraction,
            Mean = [0, 0, 0], Scale = [1, 1, 1], Layout = "NHWC", ColorOrder = "RGB",
        };
        var floats = ImagePreprocessor.Process(image, identity);
        var bytes = new byte[floats.Length];
        for (int i = 0; i < floats.Length; i++) bytes[i] = (byte)Math.Clamp(MathF.Round(floats[i]), 0, 255);
        return new RgbImage(spec.Width, spec.Height, bytes);
    }

    /// <summary>Encodes an RGB image as this baseline's file (JPEG or WebP at <see cref="Quality"/>).</summary>
    public byte[] Encode(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (Kind == "local") throw new InvalidOperationException("the local baseline sends no image");
        var rgba = new byte[image.Width * image.Height * 4];
        var rgb = image.Pixels;
        for (int i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
        {
            rgba[j] = rgb[i];
            rgba[j + 1] = rgb[i + 1];
            rgba[j + 2] = rgb[i + 2];
            rgba[j + 3] = 255;
        }
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var skImage = SKImage.FromPixelCopy(info, rgba) ?? throw new InvalidOperationException("SkiaSharp could not wrap the image");
        var format = Kind == "jpeg" ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Webp;
        using var data = skImage.Encode(format, Quality)
            ?? throw new NotSupportedException($"this SkiaSharp build cannot encode {Kind}");
        return data.ToArray();
    }

    /// <summary>Cropped/resized model-input spec: the server's preprocessing of a received file is normalisation only.</summary>
    public static PreprocessingSpec ServerSpec(PreprocessingSpec spec) => spec with { CropFraction = 1.0 };
}
