using Cleave.Evaluation.Classification;
using Cleave.Models.Preprocessing;

namespace Cleave.Evaluation.Tests;

public sealed class ImageBaselineTests
{
    private static RgbImage Gradient(int w, int h)
    {
        var px = new byte[w * h * 3];
        var random = new Random(7);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int i = (y * w + x) * 3;
                px[i] = (byte)(x * 255 / w);
                px[i + 1] = (byte)(y * 255 / h);
                px[i + 2] = (byte)random.Next(256);
            }
        return new RgbImage(w, h, px);
    }

    [Theory]
    [InlineData("local", "local", 0)]
    [InlineData("jpeg:q=75", "jpeg", 75)]
    [InlineData(" webp:q=100 ", "webp", 100)]
    public void Specs_parse(string spec, string kind, int quality)
    {
        var b = ImageBaseline.Parse(spec);
        Assert.Equal((kind, quality, spec.Trim()), (b.Kind, b.Quality, b.Spec));
    }

    [Theory]
    [InlineData("png:q=9")]
    [InlineData("jpeg")]
    [InlineData("jpeg:q=0")]
    [InlineData("webp:quality=50")]
    [InlineData("raw")]
    public void Bad_specs_are_rejected(string spec) => Assert.Throws<ArgumentException>(() => ImageBaseline.Parse(spec));

    [Theory]
    [InlineData("jpeg")]
    [InlineData("webp")]
    public void Files_decode_to_the_model_input_size_and_lower_quality_is_smaller(string kind)
    {
        var spec = PreprocessingSpec.MinusOneToOne(64, 48, 0.875);
        var resized = ImageBaseline.ResizeForModel(Gradient(200, 150), spec);
        Assert.Equal((64, 48), (resized.Width, resized.Height));
        byte[] high = ImageBaseline.Parse($"{kind}:q=95").Encode(resized);
        byte[] low = ImageBaseline.Parse($"{kind}:q=20").Encode(resized);
        Assert.True(low.Length < high.Length, $"q=20 {low.Length} B vs q=95 {high.Length} B");
        var decoded = RgbImage.Decode(high);
        Assert.Equal((64, 48), (decoded.Width, decoded.Height));
        double error = 0;
        for (int i = 0; i < decoded.Pixels.Length; i++) error += Math.Abs(decoded.Pixels[i] - resized.Pixels[i]);
        Assert.InRange(error / decoded.Pixels.Length, 0, 20);
    }

    [Fact]
    public void Resizing_for_the_model_then_server_preprocessing_matches_the_model_preprocessing_up_to_rounding()
    {
        var spec = PreprocessingSpec.MinusOneToOne(32, 32, 0.875);
        var image = Gradient(90, 70);
        var direct = ImagePreprocessor.Process(image, spec);
        var viaBytes = ImagePreprocessor.Process(ImageBaseline.ResizeForModel(image, spec), ImageBaseline.ServerSpec(spec));
        for (int i = 0; i < direct.Length; i++) Assert.InRange(Math.Abs(direct[i] - viaBytes[i]), 0, 0.5f / 127.5f + 1e-6f);
    }
}
