using Cleave.Models.Preprocessing;
using Cleave.Models.Splitting;
using Cleave.Models.Tests;
using Cleave.Training.Adapter;
using Cleave.Training.Distillation;
using static TorchSharp.torch;

namespace Cleave.Training.Tests;

/// <summary>
/// The task-weighted feature loss (<c>--feature-weights fisher</c>): the frozen tail's diagonal Fisher weights on real
/// cut tensors of real images, and the weighted squared error itself.
/// </summary>
public sealed class TailFisherTests : IDisposable
{
    private const string V1 = "mobilenet_v1_0.25_128_quant.tflite";
    private const string V1Cut = "MobilenetV1/MobilenetV1/Conv2d_3_pointwise/Relu6";
    private const string V2Cut = "MobilenetV2/expanded_conv_5/add";
    private readonly string _folder = Directory.CreateTempSubdirectory("cleave-tail-fisher-").FullName;

    public TailFisherTests() => TorchRuntime.Initialise();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [AssetFact("vision/" + V1, "imagenet-sample")]
    public void Fisher_weights_of_a_real_tail_are_positive_mean_one_and_tell_channels_apart()
    {
        var (model, spec) = ParityModels.Import(V1);
        var split = ModelSplitter.Split(new SplitAnalysis(model), [V1Cut]);
        var images = ImageNetSample.FromAssets(TestAssets.Root!).Take(6).ToList();
        var cache = CutFeatureCache.Build(split.Head, V1Cut, null, images, spec);
        using var tail = new FrozenTail(split.Tail);
        using var features = tensor(cache.Features).reshape([cache.Count, .. cache.SampleShape]);

        using var weights = TailFisher.ChannelWeights(tail, features, batchSize: 4);
        float[] w = weights.data<float>().ToArray();
        Assert.Equal(cache.SampleShape[0], w.Length);
        Assert.All(w, v => Assert.True(float.IsFinite(v) && v > 0, $"weight {v}"));
        Assert.Equal(1.0, w.Average(), 4);
        // The tail reads some channels far more than others (that is why the loss should know).
        Assert.True(w.Max() > 4 * w.Min(), string.Join(", ", w));
        // Batching does not change the weights (samples do not interact in the tail), and the tail stays frozen.
        using var oneByOne = TailFisher.ChannelWeights(tail, features, batchSize: 1);
        Assert.True(weights.allclose(oneByOne, rtol: 1e-3, atol: 1e-5));
        Assert.All(tail.Module.parameters(), p => Assert.True(p.grad is null || p.grad.abs().max().item<float>() == 0));
        Assert.Throws<ArgumentException>(() => TailFisher.ChannelWeights(tail, features.narrow(0, 0, 0)));
    }

    [Fact]
    public void The_weighted_feature_loss_is_the_mean_of_weighted_squared_errors()
    {
        // Channel 0 misses by (1, 2) with weight 2, channel 1 by (3, 0) with weight 0.5: (2·1 + 2·4 + 0.5·9 + 0.5·0) / 4 = 3.625.
        using var restored = tensor(new float[] { 1, 2, 3, 0 }).reshape(1, 2, 1, 2);
        using var target = zeros(1, 2, 1, 2);
        using var weights = tensor(new float[] { 2, 0.5f });
        Assert.Equal(3.625, DistillationLosses.ChannelWeightedMse(restored, target, weights).item<float>(), 5);
        // With weights 1/variance it is the variance-normalised loss.
        using var variance = tensor(new float[] { 4, 0.25f });
        Assert.Equal(DistillationLosses.ChannelNormalisedMse(restored, target, variance).item<float>(),
            DistillationLosses.ChannelWeightedMse(restored, target, variance.reciprocal()).item<float>(), 5);
    }

    [AssetFact("vision/mobilenet_v2_1.0_224_quant.tflite", "imagenet-sample")]
    public void The_trainer_weighs_the_feature_loss_by_the_tail_and_counts_the_pass_in_training()
    {
        var mnv2 = MobileNetV2Split.Create(_folder, V2Cut);
        var images = ImageNetSample.FromAssets(TestAssets.Root!).Take(6).ToList();
        var shift = CameraShift.Parse("blur=1,noise=3,gain=0.4,seed=1");
        var options = new AdapterOptions
        {
            Loss = AdapterLoss.Feature, FeatureWeights = FeatureWeighting.Fisher, Rank = 4, Epochs = 2, BatchSize = 4, ValidationFraction = 0,
            LearningRate = 1e-2, Views = 1,
        };
        var result = AdapterTrainer.Train(mnv2.SplitFolder, mnv2.ModelPath, images, shift, Path.Combine(_folder, "fisher"), options);

        Assert.Equal(32, result.FeatureWeights.Count);
        Assert.Equal(1.0, result.FeatureWeights.Average(), 4);
        Assert.True(result.WeightsSeconds > 0 && result.WeightsSeconds <= result.TrainSeconds);
        Assert.Equal(6, result.Steps); // 6 images x (1 + 1 view) in batches of 4: 3 steps per epoch
        Assert.All(result.Epochs, e => Assert.True(double.IsFinite(e.Loss)));
        Assert.Throws<ArgumentException>(() => AdapterTrainer.Train(mnv2.SplitFolder, mnv2.ModelPath, images, shift, Path.Combine(_folder, "labels"),
            options with { Loss = AdapterLoss.Labels }));
    }
}
