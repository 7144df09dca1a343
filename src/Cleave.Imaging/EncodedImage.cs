using System.Runtime.InteropServices;
using SkiaSharp;

namespace Cleave.Models.Preprocessing;

/// <summary>
/// An encoded image opened but not yet decoded: its declared size is known (from the header alone) before any pixel
/// memory is allocated, so a caller can refuse an image bomb, and it can be decoded at a reduced scale where the codec
/// supports that (JPEG: 1/8 steps), which costs a fraction of the memory and time of a full decode.
/// </summary>
public sealed class EncodedImage : IDisposable
{
    private readonly SKData _data;
    private readonly SKCodec _codec;

    private EncodedImage(SKData data, SKCodec codec)
    {
        _data = data;
        _codec = codec;
    }

    /// <summary>The size the file's header declares.</summary>
    public int Width => _codec.Info.Width;

    public int Height => _codec.Info.Height;

    /// <summary>Reads the header only; throws <see cref="InvalidDataException"/> for bytes SkiaSharp cannot open.</summary>
    public static EncodedImage Open(ReadOnlySpan<byte> encoded)
    {
        var data = SKData.CreateCopy(encoded);
        var codec = SKCodec.Create(data);
        if (codec is null)
        {
            data.Dispose();
            throw new InvalidDataException("image is not in a format SkiaSharp can decode (JPEG, PNG, BMP, WebP, GIF)");
        }
        var image = new EncodedImage(data, codec);
        if (image.Width <= 0 || image.Height <= 0)
        {
            image.Dispose();
            throw new InvalidDataException($"image size {image.Width}x{image.Height} is not positive");
        }
        return image;
    }

    /// <summary>Bytes a decode at <paramref name="width"/> x <paramref name="height"/> allocates (RGBA from the codec, then RGB).</summary>
    public static long DecodeBytes(int width, int height) => (long)width * height * (4 + 3);

    /// <summary>
    /// The smallest size the codec can decode to directly that is still at least <paramref name="minWidth"/> x
    /// <paramref name="minHeight"/>; the declared size when the codec cannot scale or the image is already small.
    /// </summary>
    public (int Width, int Height) ScaledSize(int minWidth, int minHeight)
    {
        float scale = Math.Max((float)minWidth / Width, (float)minHeight / Height);
        if (scale >= 1) return (Width, Height);
        var scaled = _codec.GetScaledDimensions(scale);
        // The codec rounds to a size it supports; take it only when it still covers what was asked for.
        return scaled.Width >= minWidth && scaled.Height >= minHeight && scaled.Width <= Width && scaled.Height <= Height
            ? (scaled.Width, scaled.Height) : (Width, Height);
    }

    /// <summary>
    /// Decodes at <paramref name="width"/> x <paramref name="height"/> (the declared size or one from
    /// <see cref="ScaledSize"/>). An image whose data ends early is an error unless <paramref name="allowIncomplete"/>
    /// (the codec then fills the missing rows).
    /// </summary>
    public RgbImage Decode(int width, int height, bool allowIncomplete = false)
    {
        if (width <= 0 || height <= 0 || width > Width || height > Height)
            throw new ArgumentException($"cannot decode a {Width}x{Height} image at {width}x{height}");
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[info.BytesSize64];
        var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        try
        {
            var result = _codec.GetPixels(info, handle.AddrOfPinnedObject());
            if (result == SKCodecResult.IncompleteInput && !allowIncomplete)
                throw new InvalidDataException($"the image data ends early (truncated {_codec.EncodedFormat}, {width}x{height})");
            if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
                throw new InvalidDataException($"image decoding failed: {result}");
        }
        finally
        {
            handle.Free();
        }
        var rgb = new byte[(long)width * height * 3];
        for (long i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            rgb[j] = rgba[i];
            rgb[j + 1] = rgba[i + 1];
            rgb[j + 2] = rgba[i + 2];
        }
        return new RgbImage(width, height, rgb);
    }

    public void Dispose()
    {
        _codec.Dispose();
        _data.Dispose();
    }
}
