using SkiaSharp;

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

    /// <summary>Decodes JPEG, PNG, BMP, WebP or GIF (first frame) bytes with SkiaSharp.</summary>
    public static RgbImage Decode(ReadOnlySpan<byte> encoded)
    {
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data)
            ?? throw new InvalidDataException("image is not in a format SkiaSharp can decode (JPEG, PNG, BMP, WebP, GIF)");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        if (info.Width <= 0 || info.Height <= 0 || (long)info.Width * info.Height > 100_000_000)
            throw new InvalidDataException($"image size {info.Width}x{info.Height} is out of range");
        var rgba = new byte[info.BytesSize];
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(rgba, System.Runtime.InteropServices.GCHandleType.Pinned);
        try
        {
            var result = codec.GetPixels(info, handle.AddrOfPinnedObject());
            if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
                throw new InvalidDataException($"image decoding failed: {result}");
        }
        finally
        {
            handle.Free();
        }
        var rgb = new byte[info.Width * info.Height * 3];
        for (int i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            rgb[j] = rgba[i];
            rgb[j + 1] = rgba[i + 1];
            rgb[j + 2] = rgba[i + 2];
        }
        return new RgbImage(info.Width, info.Height, rgb);
    }

    public static RgbImage Load(string path) => Decode(File.ReadAllBytes(path));
}
