using System.Globalization;
using System.Text;
using Cleave.Codecs.IO;
using SkiaSharp;

namespace Cleave.Training.Data;

/// <summary>
/// Fashion-MNIST images as a labelled image folder (grey 28x28 PNGs, <c>test-NNNNN.png</c>, and <c>labels.csv</c>),
/// the form `cleave eval` and `cleave plan --data` read, so trained Fashion-MNIST models are profiled and served
/// through the same image path as every other classifier.
/// </summary>
public static class FashionMnistImageFolder
{
    public static int Write(FashionMnist images, string folder, int count)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        count = Math.Min(count, images.Count);
        Directory.CreateDirectory(folder);
        var labels = new StringBuilder("file,label\n");
        var values = new float[28 * 28];
        var grey = new byte[values.Length];
        var info = new SKImageInfo(28, 28, SKColorType.Gray8, SKAlphaType.Opaque);
        for (int i = 0; i < count; i++)
        {
            images.Fill(i, values);
            // Undo the standardisation Fill applies: the file holds the original 8-bit pixels.
            for (int k = 0; k < values.Length; k++)
                grey[k] = (byte)Math.Clamp(MathF.Round((values[k] * FashionMnist.Deviation + FashionMnist.Mean) * 255), 0, 255);
            using var image = SKImage.FromPixelCopy(info, grey) ?? throw new InvalidOperationException("SkiaSharp could not wrap the image");
            using var png = image.Encode(SKEncodedImageFormat.Png, 100) ?? throw new NotSupportedException("this SkiaSharp build cannot encode PNG");
            string name = string.Create(CultureInfo.InvariantCulture, $"test-{i:D5}.png");
            AtomicFile.WriteAllBytes(Path.Combine(folder, name), png.ToArray());
            labels.Append(name).Append(',').Append(images.Label(i).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        File.WriteAllText(Path.Combine(folder, "labels.csv"), labels.ToString());
        return count;
    }
}
