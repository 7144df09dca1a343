using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Tests;
using Cleave.Training.Bottleneck;
using Cleave.Training.Data;
using Cleave.Training.Distillation;

namespace Cleave.Training.Tests;

/// <summary>
/// Mixed views (function matching): a view of one photo blended with, or partly replaced by, a crop of another training
/// photo. Checked on real ImageNet sample photos: the same every run, the image's own view where the partner does not
/// reach, exactly λ·view + (1 − λ)·partner for mixup and one pasted rectangle for cutmix.
/// </summary>
public sealed class MixedViewsTests : IDisposable
{
    private const string Cut = "MobilenetV2/expanded_conv_5/add";
    private readonly string _folder = Directory.CreateTempSubdirectory("cleave-mixed-views-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A partner of one colour: any crop or resampling of it is that colour, so what came from it is known exactly.</summary>
    private static RgbImage Solid(int w, int h, byte r, byte g, byte b)
    {
        var pixels = new byte[w * h * 3];
        for (int i = 0; i < pixels.Length; i += 3) (pixels[i], pixels[i + 1], pixels[i + 2]) = (r, g, b);
        return new RgbImage(w, h, pixels);
    }

    private static (RgbImage A, RgbImage B) TwoPhotos()
    {
        var images = ImageNetSample.FromAssets(TestAssets.Root!);
        return (RgbImage.Load(images[0].Path), RgbImage.Load(images[1].Path));
    }

    [AssetFact("imagenet-sample")]
    public void A_mixed_view_is_deterministic_and_differs_from_both_parents()
    {
        var (a, b) = TwoPhotos();
        foreach (var mix in new[] { ViewMix.Mixup, ViewMix.Cutmix })
        {
            var views = new RandomViews(8, Seed: 3, Mix: mix);
            var plain = views with { Mix = ViewMix.None };
            int differentFromPartner = 0;
            for (int k = 0; k < 8; k++)
            {
                var mixed = views.Make(a, "a.jpg", k, b);
                Assert.Equal(mixed.Pixels, new RandomViews(8, Seed: 3, Mix: mix).Make(a, "a.jpg", k, b).Pixels);
                var own = plain.Make(a, "a.jpg", k);
                Assert.Equal((own.Width, own.Height), (mixed.Width, mixed.Height));
                // Cutmix may draw a box that the border cuts to nothing (λ near 1); mixup always blends.
                if (mix == ViewMix.Mixup) Assert.False(mixed.Pixels.AsSpan().SequenceEqual(own.Pixels), $"{mix} view {k} is the image's own view");
                if (!mixed.Pixels.AsSpan().SequenceEqual(views.Make(a, "a.jpg", k, Solid(b.Width, b.Height, 0, 0, 0)).Pixels)) differentFromPartner++;
            }
            // The partner's pixels, not just "some other image", shape the view.
            Assert.True(differentFromPartner >= 6, $"{mix}: only {differentFromPartner} of 8 views depend on the partner's pixels");
            Assert.False(views.Make(a, "a.jpg", 0, b).Pixels.AsSpan().SequenceEqual(views.Make(a, "a.jpg", 1, b).Pixels));
        }
    }

    [AssetFact("imagenet-sample")]
    public void Mixup_pixels_are_lambda_times_the_view_plus_one_minus_lambda_times_the_partner()
    {
        var (a, _) = TwoPhotos();
        byte[] colour = [7, 250, 31];
        var partner = Solid(300, 200, colour[0], colour[1], colour[2]);
        var views = new RandomViews(8, Seed: 5, Mix: ViewMix.Mixup);
        var lambdas = new List<double>();
        for (int k = 0; k < 8; k++)
        {
            var own = (views with { Mix = ViewMix.None }).Make(a, "a.jpg", k).Pixels;
            var mixed = views.Make(a, "a.jpg", k, partner).Pixels;
            // mixed = round(g + λ (own − g)): every pixel bounds λ to an interval; one λ must satisfy them all.
            double low = 0, high = 1;
            for (int i = 0; i < own.Length; i++)
            {
                double d = own[i] - colour[i % 3], m = mixed[i] - colour[i % 3];
                if (d == 0) { Assert.Equal(colour[i % 3], mixed[i]); continue; }
                double x = (m - 0.5 - 1e-9) / d, y = (m + 0.5 + 1e-9) / d;
                (low, high) = (Math.Max(low, Math.Min(x, y)), Math.Min(high, Math.Max(x, y)));
                Assert.True(low <= high, $"view {k}: no single λ explains bytes 0..{i} (byte {i}: {mixed[i]} from {own[i]})");
            }
            Assert.True(high - low < 0.01, $"view {k}: λ only bounded to [{low}, {high}]");
            double lambda = (low + high) / 2;
            lambdas.Add(lambda);
        }
        Assert.True(lambdas.Max() - lambdas.Min() > 0.2, $"λ hardly varies over 8 views: {string.Join(", ", lambdas)}");
    }

    [AssetFact("imagenet-sample")]
    public void Cutmix_replaces_one_rectangle_of_the_view_with_the_partner()
    {
        var (a, _) = TwoPhotos();
        var partner = Solid(300, 200, 7, 250, 31);
        var views = new RandomViews(8, Seed: 5, Mix: ViewMix.Cutmix);
        int pasted = 0;
        for (int k = 0; k < 8; k++)
        {
            var ownView = (views with { Mix = ViewMix.None }).Make(a, "a.jpg", k);
            var (own, mixed, w) = (ownView.Pixels, views.Make(a, "a.jpg", k, partner).Pixels, ownView.Width);
            int x0 = int.MaxValue, y0 = int.MaxValue, x1 = -1, y1 = -1;
            for (int p = 0; p < own.Length / 3; p++)
                if (own[3 * p] != mixed[3 * p] || own[3 * p + 1] != mixed[3 * p + 1] || own[3 * p + 2] != mixed[3 * p + 2])
                    (x0, y0, x1, y1) = (Math.Min(x0, p % w), Math.Min(y0, p / w), Math.Max(x1, p % w), Math.Max(y1, p / w));
            if (x1 < 0) continue;
            pasted++;
            // Outside the changed pixels' bounding box the view is its own (by construction); inside, every pixel is the partner's.
            for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++)
                    Assert.Equal(new byte[] { 7, 250, 31 }, mixed.AsSpan((y * w + x) * 3, 3).ToArray());
            Assert.True((x1 - x0 + 1) * (y1 - y0 + 1) < own.Length / 3, $"view {k}: the whole view was replaced");
        }
        Assert.True(pasted >= 5, $"only {pasted} of 8 cutmix views pasted anything");
    }

    [Fact]
    public void The_partner_is_another_image_drawn_from_the_name_and_the_index()
    {
        var views = new RandomViews(8, Seed: 1, Mix: ViewMix.Mixup);
        var partners = Enumerable.Range(0, 32).Select(k => views.PartnerOf("a.jpg", k, self: 7, images: 450)).ToList();
        Assert.All(partners, p => Assert.InRange(p, 0, 449));
        Assert.DoesNotContain(7, partners);
        Assert.True(partners.Distinct().Count() > 20, "partners repeat: " + string.Join(",", partners));
        Assert.Equal(partners, Enumerable.Range(0, 32).Select(k => new RandomViews(8, Seed: 1, Mix: ViewMix.Mixup).PartnerOf("a.jpg", k, 7, 450)));
        Assert.Equal(1, views.PartnerOf("b.jpg", 3, self: 0, images: 2));
    }

    [Fact]
    public void Bad_mix_settings_are_refused_with_a_reason()
    {
        Assert.Contains("needs at least one view", Assert.Throws<ArgumentException>(() => new RandomViews(0, 1, Mix: ViewMix.Mixup).Validated()).Message);
        Assert.Contains("unknown mix", Assert.Throws<ArgumentException>(() => new RandomViews(2, 1, Mix: (ViewMix)7).Validated()).Message);
        var image = Solid(40, 30, 1, 2, 3);
        Assert.Contains("partner", Assert.Throws<InvalidOperationException>(() => new RandomViews(2, 1, Mix: ViewMix.Cutmix).Make(image, "a", 0)).Message);
        Assert.Contains("Mix is None", Assert.Throws<InvalidOperationException>(() => new RandomViews(2, 1).Make(image, "a", 0, image)).Message);
        Assert.Contains("at least 2 images", Assert.Throws<ArgumentException>(() => new RandomViews(2, 1, Mix: ViewMix.Mixup).PartnerOf("a", 0, 0, 1)).Message);
        // The trainer refuses mixing without views before it reads the model.
        var e = Assert.Throws<ArgumentException>(() => BottleneckTrainer.Train(Path.Combine(_folder, "absent.onnx"), Cut,
            [new LabelledImage("a.jpg", 0), new LabelledImage("b.jpg", 1)], Path.Combine(_folder, "out"), new BottleneckOptions { ViewMix = ViewMix.Mixup }));
        Assert.Contains("needs random views", e.Message);
    }

    [AssetFact("vision/mobilenet_v2_1.0_224_quant.tflite", "imagenet-sample")]
    public void The_cache_runs_head_and_teacher_on_the_mixed_views()
    {
        var (path, spec, split, _) = MobileNetV2Split.Create(_folder, Cut);
        var images = ImageNetSample.FromAssets(TestAssets.Root!).Take(2).ToList();
        var model = OnnxModel.Load(path);

        var plain = CutFeatureCache.Build(split.Head, Cut, model, images, spec, views: new RandomViews(1, Seed: 1));
        var mixed = CutFeatureCache.Build(split.Head, Cut, model, images, spec, views: new RandomViews(1, Seed: 1, Mix: ViewMix.Mixup));

        Assert.Equal(4, mixed.Count);
        int n = (int)mixed.SampleElements;
        for (int s = 0; s < 4; s++)
        {
            bool same = plain.Features.AsSpan(s * n, n).SequenceEqual(mixed.Features.AsSpan(s * n, n));
            // The images themselves (samples 0 and 2) are unchanged; their views (1 and 3) are mixed.
            Assert.True(same == (s % 2 == 0), $"sample {s} ({mixed.Names[s]}): features {(same ? "equal" : "differ")}");
        }
        Assert.False(plain.Teacher.AsSpan(mixed.Outputs, mixed.Outputs).SequenceEqual(mixed.Teacher.AsSpan(mixed.Outputs, mixed.Outputs)));
        Assert.Contains("at least 2 images", Assert.Throws<ArgumentException>(() =>
            CutFeatureCache.Build(split.Head, Cut, model, images.Take(1).ToList(), spec, views: new RandomViews(1, Seed: 1, Mix: ViewMix.Cutmix))).Message);
    }
}
