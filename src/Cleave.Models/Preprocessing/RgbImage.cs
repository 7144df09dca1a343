namespace Cleave.Models.Preprocessing;

/// <summary>A decoded 8-bit RGB image, pixels interleaved row by row (no padding).</summary>
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

    /// <summary>
    /// Decodes JPEG, PNG, BMP, WebP or GIF (first frame) bytes with SkiaSharp, at full size; data that ends early is
    /// decoded as far as it goes. Servers decoding untrusted images use <see cref="EncodedImage"/> to bound the cost first.
    /// </summary>
    public static RgbImage Decode(ReadOnlySpan<byte> encoded)
    {
        using var image = EncodedImage.Open(encoded);
        if ((long)image.Width * image.Height > 100_000_000)
            throw new InvalidDataException($"image size {image.Width}x{image.Height} is out of range");
        return image.Decode(image.Width, image.Height, allowIncomplete: true);
    }

    public static RgbImage Load(string path) => Decode(File.ReadAllBytes(path));
}
