using System.Diagnostics;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Profiling;
using SkiaSharp;

namespace Cleave.Planning.Profiles;

/// <summary>
/// The full-offload baseline as <c>cleave serve</c>'s full mode runs it: the device resizes the photo so that the
/// model's central crop of it is exactly the model's input size (224 / 0.875 = 256 for MobileNet: the usual "resize
/// 256, crop 224"), sends that as JPEG, and the server decodes it, applies the model's own preprocessing and runs the
/// whole model. Accuracy is measured on exactly those decoded pixels, so the JPEG loss is what a served request sees.
/// </summary>
public static class JpegOffloadEval
{
    public static IReadOnlyList<OffloadPoint> Run(string modelPath, IReadOnlyList<LabelledImage> images, IReadOnlyList<int> qualities,
        Action<int>? progress = null)
    {
        foreach (int q in qualities)
            if (q is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(qualities), $"JPEG quality {q} is outside 1..100");
        var model = OnnxModel.Load(modelPath);
        var spec = PreprocessingSpec.FromMetadata(model.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value))
            ?? throw new InvalidOperationException($"'{modelPath}' records no preprocessing (import it with `cleave import`)");
        using var full = new OrtModelRunner(model.ToBytes());
        string input = full.InputNames.Contains(spec.InputName) ? spec.InputName : full.InputNames[0];
        string output = full.OutputNames[0];

        int n = qualities.Count;
        var top1 = new int[n];
        var agree = new int[n];
        var encodeMs = new double[n];
        var decodeMs = new double[n];
        var sizes = new List<double>[n];
        for (int k = 0; k < n; k++) sizes[k] = [];
        for (int i = 0; i < images.Count; i++)
        {
            progress?.Invoke(i);
            var photo = RgbImage.Load(images[i].Path);
            var reference = Classify(full, input, output, spec, ImagePreprocessor.Process(photo, spec));
            int referenceBest = ImageNetSample.TopK(reference, 1)[0];
            int label = ImageNetSample.OutputIndex(images[i].ClassIndex, reference.Length);
            var (pixels, width, height) = ResizeForOffload(photo, spec);
            for (int k = 0; k < n; k++)
            {
                long t0 = Stopwatch.GetTimestamp();
                byte[] jpeg = EncodeJpeg(pixels, width, height, qualities[k]);
                encodeMs[k] += Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                sizes[k].Add(jpeg.Length);
                t0 = Stopwatch.GetTimestamp();
                var x = ImagePreprocessor.Process(RgbImage.Decode(jpeg), spec);
                decodeMs[k] += Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                int best = ImageNetSample.TopK(Classify(full, input, output, spec, x), 1)[0];
                if (best == label) top1[k]++;
                if (best == referenceBest) agree[k]++;
            }
        }

        int count = Math.Max(1, images.Count);
        var points = new List<OffloadPoint>(n);
        for (int k = 0; k < n; k++)
            points.Add(new OffloadPoint(qualities[k], (double)top1[k] / count, (double)agree[k] / count,
                sizes[k].Count == 0 ? 0 : sizes[k].Average(), Percentile95(sizes[k]), encodeMs[k] / count, decodeMs[k] / count));
        return points;
    }

    /// <summary>
    /// The photo as the device sends it: resized (bilinear, no crop) to the model's input size divided by its crop
    /// fraction, 0-255 RGB interleaved, so that the server's central crop of it is the model's input size.
    /// </summary>
    public static (byte[] Rgb, int Width, int Height) ResizeForOffload(RgbImage photo, PreprocessingSpec spec)
    {
        ArgumentNullException.ThrowIfNull(photo);
        ArgumentNullException.ThrowIfNull(spec);
        int width = (int)Math.Round(spec.Width / spec.CropFraction), height = (int)Math.Round(spec.Height / spec.CropFraction);
        var plain = spec with
        {
            Width = width, Height = height, CropFraction = 1, Mean = [0f, 0f, 0f], Scale = [1f, 1f, 1f], Layout = "NHWC", ColorOrder = "RGB",
        };
        return (ToBytes(ImagePreprocessor.Process(photo, plain)), width, height);
    }

    /// <summary>What a device sends for full offload: the resized photo as a JPEG at <paramref name="quality"/>.</summary>
    public static byte[] EncodeForOffload(RgbImage photo, PreprocessingSpec spec, int quality)
    {
        var (rgb, width, height) = ResizeForOffload(photo, spec);
        return EncodeJpeg(rgb, width, height, quality);
    }

    internal static byte[] ToBytes(float[] rgb)
    {
        var bytes = new byte[rgb.Length];
        for (int i = 0; i < rgb.Length; i++) bytes[i] = (byte)Math.Clamp(MathF.Round(rgb[i]), 0, 255);
        return bytes;
    }

    /// <summary>Encodes interleaved RGB pixels as a baseline JPEG with SkiaSharp.</summary>
    public static byte[] EncodeJpeg(byte[] rgb, int width, int height, int quality)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var rgba = new byte[width * height * 4];
        for (int i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
        {
            rgba[j] = rgb[i];
            rgba[j + 1] = rgb[i + 1];
            rgba[j + 2] = rgb[i + 2];
            rgba[j + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, quality)
            ?? throw new InvalidOperationException($"SkiaSharp could not encode a {width}x{height} JPEG");
        return data.ToArray();
    }

    private static float[] Classify(OrtModelRunner full, string input, string output, PreprocessingSpec spec, float[] x)
    {
        long[] shape = spec.Layout == "NCHW" ? [1, spec.Channels, spec.Height, spec.Width] : [1, spec.Height, spec.Width, spec.Channels];
        return (float[])full.Run(new Dictionary<string, HostTensor> { [input] = new HostTensor(OnnxElementType.Float, shape, x) }, [output])[output].Data;
    }

    internal static double Percentile95(List<double> values)
    {
        if (values.Count == 0) return 0;
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(0.95 * sorted.Length) - 1)];
    }
}
