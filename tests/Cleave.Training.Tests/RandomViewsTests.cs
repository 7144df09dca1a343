using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Tests;
using Cleave.Training.Data;
using Cleave.Training.Distillation;

namespace Cleave.Training.Tests;

/// <summary>
/// Random views multiply a cached training set: each view is a real crop of the image (same every run, different per
/// view), and the cache holds one head output and one teacher output per view, computed from that view.
/// </summary>
public sealed class RandomViewsTests : IDisposable
{
    private const string Cut = "MobilenetV2/expanded_conv_5/add";
    private readonly string _folder = Directory.CreateTempSubdirectory("cleave-views-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static RgbImage Gradient(int w, int h)
    {
        var pixels = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int i = (y * w + x) * 3;
                pixels[i] = (byte)(x * 255 / (w - 1));
                pixels[i + 1] = (byte)(y * 255 / (h - 1));
                pixels[i + 2] = 128;
            }
        return new RgbImage(w, h, pixels);
    }

    [Fact]
    public void A_view_is_a_crop_drawn_from_the_seed_the_name_and_its_index()
    {
        var image = Gradient(64, 48);
        var views = new RandomViews(4, Seed: 3, Jitter: 0);
        var first = views.Make(image, "a.jpg", 0);
        var again = new RandomViews(4, Seed: 3, Jitter: 0).Make(image, "a.jpg", 0);
        Assert.Equal(first.Pixels, again.Pixels);
        Assert.Equal((first.Width, first.Height), (again.Width, again.Height));
        Assert.InRange(first.Width * first.Height, (int)(0.35 * 64 * 48 * 0.9), 64 * 48);
        Assert.True(first.Width <= 64 && first.Height <= 48);
        // Without jitter a view's pixels are the image's own (red rises with x in the image, or falls when mirrored).
        Assert.Contains(first.Pixels, p => p == 128);
        var others = new[] { views.Make(image, "a.jpg", 1), views.Make(image, "b.jpg", 0), new RandomViews(4, Seed: 4, Jitter: 0).Make(image, "a.jpg", 0) };
        Assert.All(others, o => Assert.False(o.Width == first.Width && o.Height == first.Height && o.Pixels.SequenceEqual(first.Pixels)));
    }

    [Theory]
    [InlineData(-1, 0.35, 0.2)]
    [InlineData(RandomViews.MaxCount + 1, 0.35, 0.2)]
    [InlineData(2, 0, 0.2)]
    [InlineData(2, 1.5, 0.2)]
    [InlineData(2, 0.35, 1)]
    [InlineData(2, double.NaN, 0.2)]
    public void Bad_settings_are_refused_by_name(int count, double area, double jitter) =>
        Assert.Throws<ArgumentException>(() => new RandomViews(count, 1, area, jitter).Validated());

    [AssetFact("vision/mobilenet_v2_1.0_224_quant.tflite", "imagenet-sample")]
    public void The_cache_holds_a_head_and_a_teacher_output_per_view()
    {
        var (path, spec, split, _) = MobileNetV2Split.Create(_folder, Cut);
        var images = ImageNetSample.FromAssets(TestAssets.Root!).Take(2).ToList();
        var model = OnnxModel.Load(path);

        var cache = CutFeatureCache.Build(split.Head, Cut, model, images, spec, flips: true, views: new RandomViews(2, Seed: 1));

        Assert.Equal(2 * 4, cache.Count);
        Assert.Equal(["~flip", "~view0", "~view1"], cache.Names.Take(4).Skip(1).Select(n => n[n.IndexOf('~')..]));
        long n = cache.SampleElements;
        var plain = cache.Features.AsSpan(0, (int)n);
        for (int k = 1; k < 4; k++)
        {
            Assert.False(plain.SequenceEqual(cache.Features.AsSpan((int)(k * n), (int)n)), $"{cache.Names[k]} has the image's own features");
            var teacher = cache.Teacher.AsSpan(k * cache.Outputs, cache.Outputs);
            double total = 0;
            foreach (float p in teacher) total += p;
            Assert.InRange(total, 0.999, 1.001);
        }
        Assert.Equal(cache.Labels[0], cache.Labels[3]);
    }
}
