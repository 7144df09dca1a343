using Cleave.Codecs;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Splitting;
using Cleave.Models.Tests;
using Cleave.Runtime.Links;
using Cleave.Training.Resilience;

namespace Cleave.Training.Tests;

/// <summary>
/// The error-aware decoder on a handful of real images: frames damaged by a real bit-error channel train an adapter in
/// front of the frozen tail, the head stays byte-identical, and the written tail runs in ONNX Runtime on a damaged frame.
/// </summary>
public sealed class ErrorAwareTrainingTests : IDisposable
{
    private const string Cut = "MobilenetV2/expanded_conv_5/add";
    private readonly string _folder = Directory.CreateTempSubdirectory("cleave-error-aware-").FullName;

    public ErrorAwareTrainingTests() => TorchRuntime.Initialise();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [AssetFact("vision/mobilenet_v2_1.0_224_quant.tflite", "imagenet-sample")]
    public void Damaged_frames_train_a_server_side_adapter_and_the_head_is_unchanged()
    {
        var (path, spec, split, splitFolder) = MobileNetV2Split.Create(_folder, Cut);
        var images = ImageNetSample.FromAssets(TestAssets.Root!).Take(5).ToList();
        string output = Path.Combine(_folder, "error-aware");
        var options = new ErrorAwareOptions
        {
            Codec = "rans-ifc:bits=3,levels=6,clip=3", Channels = [new BitErrorModel(1e-3)], Copies = 2, Rank = 4, Epochs = 1, BatchSize = 4,
            MaxSteps = 2, ValidationFraction = 0.2, Flips = false, LearningRate = 3e-3,
        };

        var result = ErrorAwareTrainer.Train(splitFolder, path, images, output, options);

        Assert.Equal(4, result.TrainSamples);
        Assert.Equal(2, result.Steps);
        Assert.True(result.DamagedSamples is > 0 and <= 8);
        Assert.True(result.ConcealedGroupsPercent > 0, "at BER 1e-3 a 4 KB frame loses groups");
        Assert.True(double.IsFinite(result.FirstLoss) && double.IsFinite(result.AgreementAfter));
        Assert.Equal(File.ReadAllBytes(Path.Combine(splitFolder, "head.onnx")), File.ReadAllBytes(Path.Combine(output, "head.onnx")));
        var before = SplitManifest.Load(Path.Combine(splitFolder, "split.json"));
        var after = SplitManifest.Load(Path.Combine(output, "split.json"));
        Assert.Equal(before.Cut[0].Name, after.Cut[0].Name);
        Assert.NotEqual(before.TailSha256, after.TailSha256);

        // A damaged resilient frame, decoded with concealment as the server does, answered by the error-aware tail.
        var pixels = ParityModels.Images(spec, 1, skip: 5);
        var feature = ParityModels.RunOrt(split.Head, split.Head.Graph.Inputs[0], [1, 3, spec.Height, spec.Width], pixels, Cut)[Cut];
        var codec = FeatureCodecs.Create($"resilient:planes=1,rows=14/{options.Codec}");
        byte[] frame = codec.Encode((float[])feature.Data, new TensorShape([1, 32, 28, 28]));
        new BitErrorChannel(new BitErrorModel(1e-3), 5).Damage(frame);
        float[] restored = FeatureFrame.Decode(frame, out _);
        var tail = OnnxModel.Load(Path.Combine(output, "tail.onnx"));
        string scores = tail.Graph.Outputs[0];
        var answer = (float[])ParityModels.RunOrt(tail, Cut, feature.Shape, restored, scores)[scores].Data;
        Assert.Equal(1001, answer.Length);
        Assert.All(answer, v => Assert.True(float.IsFinite(v)));

        // Served beside the plain tail as a task that a device on a bad channel names.
        var served = ErrorAwareTask.Add(splitFolder, Path.Combine(output, "tail.onnx"), "ber-1e-3");
        Assert.Equal(["default", "ber-1e-3"], served.Tasks.Select(t => t.Name));
        Assert.Equal(File.ReadAllBytes(Path.Combine(output, "tail.onnx")), File.ReadAllBytes(Path.Combine(splitFolder, served.Tasks[1].File)));
        Assert.Equal(served.Tasks[1].Sha256, SplitManifest.Load(Path.Combine(splitFolder, "split.json")).Tasks[1].Sha256);
        Assert.Throws<InvalidDataException>(() => ErrorAwareTask.Add(splitFolder, Path.Combine(output, "tail.onnx"), "../x"));
    }
}
