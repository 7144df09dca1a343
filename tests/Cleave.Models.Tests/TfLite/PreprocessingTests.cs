using Cleave.Models.Preprocessing;

namespace Cleave.Models.Tests.TfLite;

public sealed class PreprocessingTests
{
    private static RgbImage Gradient(int w, int h)
    {
        var px = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int at = (y * w + x) * 3;
                px[at] = (byte)(10 * x);
                px[at + 1] = (byte)(10 * y);
                px[at + 2] = 200;
            }
        return new RgbImage(w, h, px);
    }

    [Fact]
    public void SameSizeWithoutCropIsAPureNormalisationInNchw()
    {
        var spec = new PreprocessingSpec { Width = 3, Height = 2, Mean = [0f, 10f, 100f], Scale = [1f, 0.5f, 0.01f] };
        var t = ImagePreprocessor.Process(Gradient(3, 2), spec);
        Assert.Equal([0f, 10f, 20f, 0f, 10f, 20f], t[..6]);            // R plane = 10x
        Assert.Equal([-5f, -5f, -5f, 0f, 0f, 0f], t[6..12]);          // G plane = (10y - 10) / 2
        Assert.All(t[12..], v => Assert.Equal(1f, v, 5));              // B plane = (200 - 100) / 100
    }

    [Fact]
    public void CentralCropTakesTheMiddleAndNhwcInterleaves()
    {
        var spec = new PreprocessingSpec { Width = 2, Height = 2, CropFraction = 0.5, Layout = "NHWC", Mean = [0f, 0f, 0f], Scale = [1f, 1f, 1f] };
        var t = ImagePreprocessor.Process(Gradient(4, 4), spec);
        Assert.Equal([10f, 10f, 200f, 20f, 10f, 200f, 10f, 20f, 200f, 20f, 20f, 200f], t);
    }

    [Fact]
    public void BilinearDownscaleUsesHalfPixelCentres()
    {
        // 4 -> 2 columns: sample positions 0.5 and 2.5, i.e. the mean of pixels (0,1) and (2,3).
        var spec = new PreprocessingSpec { Width = 2, Height = 1, Mean = [0f, 0f, 0f], Scale = [1f, 1f, 1f] };
        var t = ImagePreprocessor.Process(Gradient(4, 1), spec);
        Assert.Equal([5f, 25f], t[..2]);
    }

    [Fact]
    public void SpecRoundTripsThroughMetadataAndRejectsBadValues()
    {
        var spec = PreprocessingSpec.MinusOneToOne(224, 200, 0.875, "image") with { ColorOrder = "BGR" };
        var metadata = new Dictionary<string, string>(spec.ToMetadata());
        Assert.Equal(spec, PreprocessingSpec.FromMetadata(metadata));
        Assert.Null(PreprocessingSpec.FromMetadata(new Dictionary<string, string>()));

        metadata[PreprocessingSpec.KeyPrefix + "crop_fraction"] = "1.5";
        Assert.Throws<FormatException>(() => PreprocessingSpec.FromMetadata(metadata));
        metadata = new Dictionary<string, string>(spec.ToMetadata()) { [PreprocessingSpec.KeyPrefix + "mean"] = "1,2" };
        Assert.Throws<FormatException>(() => PreprocessingSpec.FromMetadata(metadata));
    }

    [Fact]
    public void DecodesPngAndRejectsGarbage()
    {
        using var bitmap = new SkiaSharp.SKBitmap(3, 2);
        bitmap.SetPixel(2, 1, new SkiaSharp.SKColor(1, 2, 3));
        using var png = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        var image = RgbImage.Decode(png.ToArray());
        Assert.Equal((3, 2), (image.Width, image.Height));
        Assert.Equal([1, 2, 3], image.Pixels[15..18]);
        Assert.Throws<InvalidDataException>(() => RgbImage.Decode([1, 2, 3, 4, 5]));
    }

    [Fact]
    public void TopKOrdersTheBestScoresFirst()
    {
        Assert.Equal([3, 0, 2], ImageNetSample.TopK([0.5f, 0.1f, 0.3f, 0.9f, 0.2f], 3));
    }
}

public sealed class SegmentationScoreTests
{
    [Fact]
    public void IoUPerClassAveragesOverClassesPresentAndSkipsIgnoredLabels()
    {
        int[] truth = [0, 0, 1, 1, 255];
        int[] predicted = [0, 1, 1, 1, 0];
        var score = SegmentationScore.Compute(predicted, truth, 255);
        Assert.Equal(0.5, score.ClassIoU[0]);       // 1 shared pixel, 2 in the union
        Assert.Equal(2 / 3.0, score.ClassIoU[1], 10);
        Assert.Equal((0.5 + 2 / 3.0) / 2, score.MeanIoU, 10);
        Assert.Equal(0.75, score.PixelAccuracy);
        Assert.Throws<ArgumentException>(() => SegmentationScore.Compute([0], [0, 1]));
    }
}
