using Cleave.Models.Preprocessing;

namespace Cleave.Evaluation.Segmentation;

/// <summary>
/// An image and its ground-truth label map: an 8-bit (grey or colour) image whose first channel is the class of
/// each pixel, as PASCAL VOC's class masks are read.
/// </summary>
public sealed record SegmentationSample(string ImagePath, string MaskPath)
{
    /// <summary>The mask's labels resampled (nearest pixel) to a <paramref name="width"/> x <paramref name="height"/> prediction.</summary>
    public int[] LoadLabels(int width, int height)
    {
        var mask = RgbImage.Load(MaskPath);
        var labels = new int[width * height];
        for (int y = 0; y < height; y++)
        {
            int sy = (int)((y + 0.5) * mask.Height / height);
            for (int x = 0; x < width; x++)
            {
                int sx = (int)((x + 0.5) * mask.Width / width);
                labels[y * width + x] = mask.Pixels[3 * (sy * mask.Width + sx)];
            }
        }
        return labels;
    }
}
