namespace Cleave.Models.Preprocessing;

/// <summary>
/// A decoded 8-bit RGB image, pixels interleaved row by row (no padding). Decoding files into one (<c>RgbImage.Load</c>,
/// <c>RgbImage.Decode</c>) is in Cleave.Imaging, so this library carries no native image code.
/// </summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (width <= 0 || height <= 0) throw new ArgumentException($"image size {width}x{height} is not positive");
        if (pixels.Length != (long)width * height * 3)
            throw new ArgumentException($"{pixels.Length} bytes do not hold a {width}x{height} RGB image");
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>R, G, B bytes per pixel, rows top to bottom.</summary>
    public byte[] Pixels { get; }
}
