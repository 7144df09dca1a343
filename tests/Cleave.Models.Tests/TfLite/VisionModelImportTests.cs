using Cleave.Models.Importers.TfLite;
using Cleave.Models.Preprocessing;
using Xunit.Abstractions;

namespace Cleave.Models.Tests.TfLite;

/// <summary>The Coral vision models imported end to end and run in ONNX Runtime (skipped without the shared assets).</summary>
public sealed class VisionModelImportTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cleave-vision-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Import(string model, TfLiteImportOptions? options = null) =>
        TfLiteImporter.Import(TestAssets.Path("vision", model), Path.Combine(_dir, Path.ChangeExtension(model, ".onnx")), options).OutputPath;

    [AssetFact("vision/cat.bmp", "vision/mobilenet_v2_1.0_224_quant.tflite", "vision/tf2_mobilenet_v2_1.0_224_ptq.tflite",
        "vision/mobilenet_v1_0.25_128_quant.tflite", "vision/mobilenet_v1_0.5_160_quant.tflite", "vision/mobilenet_v1_0.75_192_quant.tflite")]
    public void EveryImageNetMobileNetClassifiesTheCatAsACat()
    {
        var cat = RgbImage.Load(TestAssets.Path("vision", "cat.bmp"));
        var labels = File.ReadAllLines(TestAssets.Path("vision", "imagenet_labels.txt"));
        foreach (string model in new[] { "mobilenet_v2_1.0_224_quant.tflite", "tf2_mobilenet_v2_1.0_224_ptq.tflite",
                     "mobilenet_v1_0.25_128_quant.tflite", "mobilenet_v1_0.5_160_quant.tflite", "mobilenet_v1_0.75_192_quant.tflite" })
        {
            using var session = new ImageModelSession(Import(model));
            var scores = session.Run(cat);
            int best = ImageNetSample.TopK(scores, 1)[0];
            output.WriteLine($"{model}: {labels[best]} ({scores[best]:F3})");
            Assert.Equal(1001, scores.Length);
            Assert.InRange(best, 282, 286); // tabby, tiger cat, Persian, Siamese, Egyptian cat
            Assert.Equal(1f, scores.Sum(), 3);
        }
    }

    [AssetFact("vision/bird.bmp", "vision/cat.bmp", "vision/mobilenet_v2_1.0_224_inat_bird_quant.tflite")]
    public void BirdMobileNetNamesTheChickadeeAndCallsTheCatBackground()
    {
        // The iNaturalist model knows only birds (its last class is "background"): the cat must land there.
        var labels = File.ReadAllLines(TestAssets.Path("vision", "inat_bird_labels.txt"));
        using var session = new ImageModelSession(Import("mobilenet_v2_1.0_224_inat_bird_quant.tflite"));
        var bird = session.Run(RgbImage.Load(TestAssets.Path("vision", "bird.bmp")));
        var cat = session.Run(RgbImage.Load(TestAssets.Path("vision", "cat.bmp")));
        Assert.Equal(965, bird.Length);
        Assert.Contains("Black-capped Chickadee", labels[ImageNetSample.TopK(bird, 1)[0]]);
        Assert.Equal("background", labels[ImageNetSample.TopK(cat, 1)[0]]);
    }

    [AssetFact("vision/mobilenet_v2_1.0_224_quant.tflite", "reference/mobilenet_v2_1.0_224_quant.float.onnx", "imagenet-sample")]
    public void MobileNetV2AgreesWithTheReferenceConversionOnSampleImages()
    {
        string mine = Import("mobilenet_v2_1.0_224_quant.tflite");
        using var session = new ImageModelSession(mine);
        Assert.Equal(int.MaxValue, session.MaxBatch); // symbolic batch
        // Same input tensor into both models, so only the conversions are compared.
        using var reference = new ImageModelSession(TestAssets.Path("reference", "mobilenet_v2_1.0_224_quant.float.onnx"), session.Spec);
        var sample = ImageNetSample.FromAssets(TestAssets.Root!);
        var images = Enumerable.Range(0, 24).Select(i => RgbImage.Load(sample[i * 41].Path)).ToList();

        var ours = session.RunBatch(images);
        var theirs = reference.RunBatch(images);
        int agree = 0;
        double maxDiff = 0;
        for (int i = 0; i < images.Count; i++)
        {
            if (ImageNetSample.TopK(ours[i], 1)[0] == ImageNetSample.TopK(theirs[i], 1)[0]) agree++;
            for (int k = 0; k < ours[i].Length; k++) maxDiff = Math.Max(maxDiff, Math.Abs(ours[i][k] - theirs[i][k]));
        }
        output.WriteLine($"top-1 agreement {agree}/{images.Count}, max |p - p_ref| = {maxDiff:E2}");
        Assert.Equal(images.Count, agree);
        Assert.True(maxDiff < 1e-3, $"probabilities differ by up to {maxDiff}");
    }

    [AssetFact("vision/deeplabv3_mnv2_pascal_quant.tflite", "vision/bird_segmentation.bmp", "vision/bird_segmentation_mask.bmp")]
    public void DeepLabSegmentsTheBirdAgainstItsMask()
    {
        using var session = new ImageModelSession(Import("deeplabv3_mnv2_pascal_quant.tflite"));
        var image = RgbImage.Load(TestAssets.Path("vision", "bird_segmentation.bmp"));
        var mask = RgbImage.Load(TestAssets.Path("vision", "bird_segmentation_mask.bmp"));
        var labels = session.Run(image);
        Assert.Equal(mask.Width * mask.Height, labels.Length);

        // The mask is an 8-bit grey BMP whose value is the PASCAL VOC class (0 background, 3 bird); its few 1s and 2s
        // all lie on the bird's outline (anti-aliasing of the drawn mask), so they are ignored like VOC's 255 border.
        var truth = new int[labels.Length];
        var predicted = new int[labels.Length];
        for (int i = 0; i < truth.Length; i++) { truth[i] = mask.Pixels[3 * i]; predicted[i] = (int)labels[i]; }
        var score = SegmentationScore.Compute(predicted, truth, ignoreLabels: [1, 2]);
        output.WriteLine($"mean IoU {score.MeanIoU:F4} over classes {string.Join(", ", score.ClassIoU.Select(kv => $"{kv.Key}:{kv.Value:F4}"))}, pixel accuracy {score.PixelAccuracy:F4}");
        Assert.Equal([0, 3], score.ClassIoU.Keys);
        Assert.True(score.MeanIoU > 0.9, $"mean IoU {score.MeanIoU}");
        Assert.True(score.ClassIoU[3] > 0.85, $"bird IoU {score.ClassIoU[3]}");
        Assert.True(score.ClassIoU[0] > 0.95, $"background IoU {score.ClassIoU[0]}");
    }

    [AssetFact("vision/movenet_single_pose_lightning_ptq.tflite", "vision/squat.bmp")]
    public void MoveNetFindsAPlausiblePose()
    {
        var result = TfLiteImporter.Import(TestAssets.Path("vision", "movenet_single_pose_lightning_ptq.tflite"), Path.Combine(_dir, "movenet.onnx"));
        Assert.False(result.SymbolicBatch); // its keypoint decoding gathers from batch 0
        using var session = new ImageModelSession(result.OutputPath);
        var keypoints = session.Run(RgbImage.Load(TestAssets.Path("vision", "squat.bmp")));
        Assert.Equal(17 * 3, keypoints.Length); // [1,1,17,(y, x, score)] in the TFLite layout
        Assert.All(keypoints, v => Assert.InRange(v, 0f, 1f));
        float Y(int k) => keypoints[3 * k];
        Assert.True(Y(0) < Y(11) && Y(11) < Y(15), "nose above hip above ankle");
        Assert.True(keypoints.Where((_, i) => i % 3 == 2).Average() > 0.4, "keypoint scores should be confident");
    }
}
