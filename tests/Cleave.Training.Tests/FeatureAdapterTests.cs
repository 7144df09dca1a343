using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Tests;
using Cleave.Training.Adapter;
using Cleave.Training.Distillation;
using static TorchSharp.torch;

namespace Cleave.Training.Tests;

/// <summary>
/// The feature-matching adapter (<see cref="AdapterLoss.Feature"/>) on real MobileNetV2 and real images: its target (the
/// head's cut on the unshifted image) and its noise draws come out of the cache as documented, the loss falls, the
/// deployed head moves the shifted cut towards the clean one, and tail.onnx is untouched.
/// </summary>
public sealed class FeatureAdapterTests : IDisposable
{
    private const string Cut = "MobilenetV2/expanded_conv_5/add";
    private static readonly CameraShift Shift = CameraShift.Parse("blur=1,noise=3,gain=0.4,seed=1");
    private readonly string _folder = Directory.CreateTempSubdirectory("cleave-feature-adapter-").FullName;

    public FeatureAdapterTests() => TorchRuntime.Initialise();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [AssetFact("vision/mobilenet_v2_1.0_224_quant.tflite", "imagenet-sample")]
    public void Noise_draws_differ_from_each_other_and_share_one_clean_target()
    {
        var mnv2 = MobileNetV2Split.Create(_folder, Cut);
        var images = ImageNetSample.FromAssets(TestAssets.Root!).Take(2).ToList();
        var drawn = CutFeatureCache.Build(mnv2.Split.Head, Cut, null, images, mnv2.Spec, featureShift: Shift, cleanFeatures: true, shiftDraws: 3);
        var plain = CutFeatureCache.Build(mnv2.Split.Head, Cut, null, images, mnv2.Spec, featureShift: Shift);
        var unshifted = CutFeatureCache.Build(mnv2.Split.Head, Cut, null, images, mnv2.Spec);

        Assert.Equal(6, drawn.Count);
        Assert.Equal(3, drawn.Draws);
        Assert.Equal(drawn.Features.Length, drawn.CleanFeatures.Length);
        int n = (int)drawn.SampleElements;
        float[] Sample(float[] data, int i) => data.AsSpan(i * n, n).ToArray();
        for (int image = 0; image < 2; image++)
        {
            // Draw 0 is the noise `cleave eval --shift` gives that file; the other draws are new noise on the same image.
            Assert.Equal(Sample(plain.Features, image), Sample(drawn.Features, image * 3));
            Assert.NotEqual(Sample(drawn.Features, image * 3), Sample(drawn.Features, image * 3 + 1));
            Assert.NotEqual(Sample(drawn.Features, image * 3 + 1), Sample(drawn.Features, image * 3 + 2));
            for (int draw = 0; draw < 3; draw++)
                Assert.Equal(Sample(unshifted.Features, image), Sample(drawn.CleanFeatures, image * 3 + draw));
        }
        Assert.Empty(plain.CleanFeatures);
        Assert.Throws<ArgumentException>(() => CutFeatureCache.Build(mnv2.Split.Head, Cut, null, images, mnv2.Spec, shiftDraws: 2));
    }

    [Fact]
    public void The_feature_loss_weighs_every_channel_by_its_own_variance()
    {
        // Channel 0 varies 100x more than channel 1; the same error relative to each channel's spread costs the same.
        using var target = zeros(2, 2, 1, 1);
        using var variance = tensor(new float[] { 100, 1 });
        using var offChannel0 = tensor(new float[] { 10, 0, 10, 0 }).reshape(2, 2, 1, 1);
        using var offChannel1 = tensor(new float[] { 0, 1, 0, 1 }).reshape(2, 2, 1, 1);
        Assert.Equal(0.5, DistillationLosses.ChannelNormalisedMse(offChannel0, target, variance).item<float>(), 5);
        Assert.Equal(0.5, DistillationLosses.ChannelNormalisedMse(offChannel1, target, variance).item<float>(), 5);
        Assert.Equal(0.0, DistillationLosses.ChannelNormalisedMse(target, target, variance).item<float>(), 6);
        using var batch = tensor(new float[] { 0, 1, 20, 1 }).reshape(2, 2, 1, 1);
        float[] spread = [.. DistillationLosses.ChannelVariance(batch).data<float>().ToArray().Select(v => MathF.Round(v, 3))];
        Assert.Equal([100f, 0f], spread);
    }

    [AssetFact("vision/mobilenet_v2_1.0_224_quant.tflite", "imagenet-sample")]
    public void Feature_adapter_pulls_the_shifted_cut_towards_the_clean_one_and_keeps_the_tail()
    {
        var mnv2 = MobileNetV2Split.Create(_folder, Cut);
        var images = ImageNetSample.FromAssets(TestAssets.Root!).Take(8).ToList();
        string output = Path.Combine(_folder, "adapted");
        var options = new AdapterOptions
        {
            Loss = AdapterLoss.Feature, Rank = 8, Epochs = 8, BatchSize = 4, ValidationFraction = 0.25, LearningRate = 1e-2, ShiftDraws = 2, ValidateEvery = 4,
        };
        var result = AdapterTrainer.Train(mnv2.SplitFolder, mnv2.ModelPath, images, Shift, output, options);

        var epochs = result.Epochs.Where(e => e.Epoch > 0).ToList();
        Assert.Equal(8, epochs.Count);
        Assert.Equal(16, result.Steps);
        Assert.Equal(12, result.TrainSamples);
        Assert.True(epochs[^1].Loss < 0.9 * epochs[0].Loss, $"feature loss went from {epochs[0].Loss} to {epochs[^1].Loss}");
        Assert.True(double.IsNaN(epochs[0].ValidationTop1) && !double.IsNaN(epochs[3].ValidationTop1) && !double.IsNaN(epochs[^1].ValidationTop1));
        Assert.Equal(File.ReadAllBytes(Path.Combine(mnv2.SplitFolder, "tail.onnx")), File.ReadAllBytes(Path.Combine(output, "tail.onnx")));

        // The deployed head (ONNX Runtime, adapter merged) on six of the images under the shift `cleave eval` applies: its
        // cut is nearer the clean image's cut than the plain head's is.
        var adaptedHead = OnnxModel.Load(Path.Combine(output, "head.onnx"));
        var train = images.Take(6).ToList();
        var plain = CutFeatureCache.Build(mnv2.Split.Head, Cut, null, train, mnv2.Spec, featureShift: Shift, cleanFeatures: true);
        var adapted = CutFeatureCache.Build(adaptedHead, Cut, null, train, mnv2.Spec, featureShift: Shift);
        using var clean = tensor(plain.CleanFeatures).reshape([plain.Count, .. plain.SampleShape]);
        using var variance = DistillationLosses.ChannelVariance(clean);
        using var before = tensor(plain.Features).reshape(clean.shape);
        using var after = tensor(adapted.Features).reshape(clean.shape);
        double errorBefore = DistillationLosses.ChannelNormalisedMse(before, clean, variance).item<float>();
        double errorAfter = DistillationLosses.ChannelNormalisedMse(after, clean, variance).item<float>();
        Assert.True(errorAfter < 0.95 * errorBefore, $"normalised feature error {errorBefore:F4} before, {errorAfter:F4} after");
    }
}
