using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Splitting;
using Cleave.Models.Tests;
using Cleave.Training.Adapter;
using Cleave.Training.Bottleneck;
using Cleave.Training.Export;
using static TorchSharp.torch;

namespace Cleave.Training.Tests;

/// <summary>
/// The two trainings around a cut (a learned bottleneck, a client-side adapter) on a handful of real images for a few
/// steps: the loss falls, the written split folder runs in ONNX Runtime and computes what the TorchSharp modules compute.
/// </summary>
public sealed class SplitTrainingTests : IDisposable
{
    private const string Cut = "MobilenetV2/expanded_conv_5/add";
    private readonly string _folder = Directory.CreateTempSubdirectory("cleave-split-training-").FullName;

    public SplitTrainingTests() => TorchRuntime.Initialise();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private (string ModelPath, OnnxModel Model, PreprocessingSpec Spec, IReadOnlyList<LabelledImage> Images) MobileNetV2(int images)
    {
        var (model, spec) = ParityModels.Import("mobilenet_v2_1.0_224_quant.tflite");
        string path = Path.Combine(_folder, "mnv2.onnx");
        model.Save(path);
        return (path, OnnxModel.Load(path), spec, ImageNetSample.FromAssets(TestAssets.Root!).Take(images).ToList());
    }

    [AssetFact("vision/mobilenet_v2_1.0_224_quant.tflite", "imagenet-sample")]
    public void Bottleneck_trains_and_its_split_folder_matches_TorchSharp_in_ONNX_Runtime()
    {
        var (path, model, spec, images) = MobileNetV2(8);
        var split = ModelSplitter.Split(new SplitAnalysis(model), [Cut]);
        var pixels = ParityModels.Images(spec, 1);
        long[] inputShape = [1, 3, spec.Height, spec.Width];
        var feature = ParityModels.RunOrt(split.Head, split.Head.Graph.Inputs[0], inputShape, pixels, Cut)[Cut];
        float[]? torchCode = null, torchProbabilities = null;
        string output = Path.Combine(_folder, "bottleneck");
        var options = new BottleneckOptions
        {
            CodeChannels = 4, Hidden = 8, FeatureEpochs = 4, Epochs = 1, BatchSize = 3, Flips = false, ValidationFraction = 0.25, LearningRate = 3e-3,
        };
        var result = BottleneckTrainer.Train(path, Cut, images, output, options, trained: (bottleneck, tail) =>
        {
            using var _ = no_grad();
            using var x = tensor((float[])feature.Data).reshape(feature.Shape);
            using var code = bottleneck.Encoder.forward(x);
            torchCode = code.contiguous().data<float>().ToArray();
            using var logits = tail.Logits(bottleneck.Decoder.forward(code));
            torchProbabilities = logits.softmax(1).contiguous().data<float>().ToArray();
        });

        var feature_ = result.Epochs.Where(e => e.Stage == "feature").ToList();
        Assert.Equal(4, feature_.Count);
        Assert.True(feature_[^1].Loss < feature_[0].Loss, $"feature-stage loss went from {feature_[0].Loss} to {feature_[^1].Loss}");
        Assert.Contains(result.Epochs, e => e.Stage == "distill" && double.IsFinite(e.Kl) && e.Kl > 0);
        Assert.Equal(6, result.TrainSamples);

        var manifest = SplitManifest.Load(Path.Combine(output, "split.json"));
        Assert.Equal(BottleneckTrainer.CodeTensorName, manifest.Cut[0].Name);
        Assert.NotEqual(split.Manifest.ComputeHash(), manifest.ComputeHash());
        var head = OnnxModel.Load(Path.Combine(output, manifest.HeadFile));
        var tail = OnnxModel.Load(Path.Combine(output, manifest.TailFile));
        var code = ParityModels.RunOrt(head, head.Graph.Inputs[0], inputShape, pixels, BottleneckTrainer.CodeTensorName)[BottleneckTrainer.CodeTensorName];
        Assert.Equal([1L, 4, 28, 28], code.Shape);
        Assert.True(MaxRelative(torchCode!, (float[])code.Data) <= 1e-5, $"code differs by {MaxRelative(torchCode!, (float[])code.Data)}");
        string probabilities = tail.Graph.Outputs[0];
        var ort = ParityModels.RunOrt(tail, BottleneckTrainer.CodeTensorName, code.Shape, (float[])code.Data, probabilities)[probabilities];
        Assert.True(MaxRelative(torchProbabilities!, (float[])ort.Data) <= 1e-4, $"outputs differ by {MaxRelative(torchProbabilities!, (float[])ort.Data)}");
    }

    [AssetFact("vision/mobilenet_v2_1.0_224_quant.tflite", "imagenet-sample")]
    public void Adapter_trains_and_leaves_the_tail_and_the_cut_unchanged()
    {
        var (path, model, spec, images) = MobileNetV2(8);
        string splitFolder = Path.Combine(_folder, "split");
        ModelSplitter.Split(new SplitAnalysis(model), [Cut], "mnv2.onnx").Save(splitFolder);
        string output = Path.Combine(_folder, "adapted");
        var options = new AdapterOptions { Rank = 4, Epochs = 4, BatchSize = 3, ValidationFraction = 0.25, LearningRate = 3e-3 };
        var result = AdapterTrainer.Train(splitFolder, path, images, CameraShift.Parse("blur=1,noise=3,gain=0.4,seed=1"), output, options);

        var epochs = result.Epochs.Where(e => e.Epoch > 0).ToList();
        Assert.Equal(4, epochs.Count);
        Assert.True(epochs[^1].Loss < epochs[0].Loss, $"loss went from {epochs[0].Loss} to {epochs[^1].Loss}");
        Assert.Equal(File.ReadAllBytes(Path.Combine(splitFolder, "tail.onnx")), File.ReadAllBytes(Path.Combine(output, "tail.onnx")));
        var before = SplitManifest.Load(Path.Combine(splitFolder, "split.json"));
        var after = SplitManifest.Load(Path.Combine(output, "split.json"));
        Assert.Equal(before.Cut[0].Name, after.Cut[0].Name);
        Assert.Equal(before.Cut[0].Shape, after.Cut[0].Shape);
        Assert.Equal(before.TailSha256, after.TailSha256);
        var head = OnnxModel.Load(Path.Combine(output, "head.onnx"));
        var pixels = ParityModels.Images(spec, 1);
        var adapted = ParityModels.RunOrt(head, head.Graph.Inputs[0], [1, 3, spec.Height, spec.Width], pixels, Cut)[Cut];
        Assert.Equal([1L, 32, 28, 28], adapted.Shape);
    }

    [AssetFact("vision/mobilenet_v2_1.0_224_quant.tflite", "imagenet-sample")]
    public void An_untrained_adapter_is_the_identity_in_ONNX_Runtime()
    {
        var (_, model, spec, _) = MobileNetV2(1);
        string splitFolder = Path.Combine(_folder, "split");
        var split = ModelSplitter.Split(new SplitAnalysis(model), [Cut], "mnv2.onnx");
        split.Save(splitFolder);
        var pixels = ParityModels.Images(spec, 2);
        long[] shape = [2, 3, spec.Height, spec.Width];
        var plain = (float[])ParityModels.RunOrt(split.Head, split.Head.Graph.Inputs[0], shape, pixels, Cut)[Cut].Data;
        foreach (int depth in new[] { 1, 3 })
        {
            manual_seed(3);
            using var adapter = ResidualAdapter.Create(32, 8, depth);
            string output = Path.Combine(_folder, $"identity-{depth}");
            SplitAttachment.Attach(splitFolder, output, adapter, serverLayer: null);
            var head = OnnxModel.Load(Path.Combine(output, "head.onnx"));
            var withAdapter = (float[])ParityModels.RunOrt(head, head.Graph.Inputs[0], shape, pixels, Cut)[Cut].Data;
            Assert.Equal(plain, withAdapter);
            // 1x1 down, depth 3x3 convolutions, 1x1 up: the branch the option asked for is the one exported.
            Assert.Equal(depth + 2, head.Graph.Nodes.Count(n => n.OpType == "Conv") - split.Head.Graph.Nodes.Count(n => n.OpType == "Conv"));
        }
    }

    private static double MaxRelative(float[] actual, float[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double diff = 0, scale = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs(actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        return diff / Math.Max(scale, 1e-12);
    }
}
