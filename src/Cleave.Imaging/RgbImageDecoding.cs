namespace Cleave.Models.Preprocessing;

/// <summary>
/// Image files to <see cref="RgbImage"/>s with SkiaSharp. <c>RgbImage.Load</c> and <c>RgbImage.Decode</c> read as
/// members of the type, but live here (C# 14 static extension members) so that Cleave.Models, and everything that runs
/// a model on tensors only (a server's tail, a device that preprocesses elsewhere), needs no native image library.
/// </summary>
public static class RgbImageDecoding
{
    extension(RgbImage)
    {
        /// <summary>
        /// Decodes JPEG, PNG, BMP, WebP or GIF (first frame) bytes at full size; data that ends early is decoded as far
        /// as it goes. Servers decoding untrusted images use <see cref="EncodedImage"/> to bound the cost first.
        /// </summary>
        public static RgbImage Decode(ReadOnlySpan<byte> encoded)
        {
            using var image = EncodedImage.Open(encoded);
            if ((long)image.Width * image.Height > 100_000_000)
                throw new InvalidDataException($"image size {image.Width}x{image.Height} is out of range");
            return image.Decode(image.Width, image.Height, allowIncomplete: true);
        }

        public static RgbImage Load(string path) => RgbImage.Decode(File.ReadAllBytes(path));
    }
}
