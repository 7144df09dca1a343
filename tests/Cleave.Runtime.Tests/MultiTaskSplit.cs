using Cleave.Codecs;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Profiling;
using Cleave.Models.Splitting;
using Google.Protobuf;
using Onnx;

namespace Cleave.Runtime.Tests;

/// <summary>
/// The MobileNetV2 split with three tasks on its cut (a copy made per test): "imagenet" (tail.onnx, the default),
/// "coarse" (global average pool of the 64-channel cut tensor, a seeded 64x12 Gemm: 12 classes) and "pooled" (the
/// pooled 64 values, kind tensor). Each task can be run here through ONNX Runtime to check the server's answers.
/// </summary>
public sealed class MultiTaskSplit : IDisposable
{
    public const int CoarseClasses = 12;
    public const int Channels = 64;

    public MultiTaskSplit()
    {
        Path = Directory.CreateTempSubdirectory("cleave-multitask-").FullName;
        foreach (string file in Directory.GetFiles(MobileNetSplit.SplitPath))
            File.Copy(file, System.IO.Path.Combine(Path, System.IO.Path.GetFileName(file)));
        var manifest = SplitManifest.Load(System.IO.Path.Combine(Path, "split.json"));
        byte[] coarse = Model(withClassifier: true), pooled = Model(withClassifier: false);
        File.WriteAllBytes(System.IO.Path.Combine(Path, "task-coarse.onnx"), coarse);
        File.WriteAllBytes(System.IO.Path.Combine(Path, "task-pooled.onnx"), pooled);
        manifest.WithTasks(
        [
            new SplitTask { Name = "imagenet", File = manifest.TailFile },
            new SplitTask { Name = "coarse", File = "task-coarse.onnx", Sha256 = Sha256(coarse) },
            new SplitTask { Name = "pooled", File = "task-pooled.onnx", Kind = SplitTask.TensorKind },
        ]).Save(System.IO.Path.Combine(Path, "split.json"));
        Split = SplitDirectory.Load(Path);
    }

    public string Path { get; }

    public SplitDirectory Split { get; }

    /// <summary>Task <paramref name="task"/>'s output for a frame, computed here: the frame decoded and run through the task's model.</summary>
    public float[] RunLocally(string task, byte[] frame)
    {
        var file = Split.Tasks.Single(t => t.Name == task).File;
        using var runner = new OrtModelRunner(File.ReadAllBytes(System.IO.Path.Combine(Path, file)));
        var values = FeatureFrame.Decode(frame, out var shape);
        long[] dims = [.. shape.Dimensions.ToArray().Select(d => (long)d)];
        return (float[])runner.Run(new Dictionary<string, HostTensor> { [MobileNetSplit.Cut] = new(OnnxElementType.Float, dims, values) })[runner.OutputNames[0]].Data;
    }

    public static int Top1(float[] scores) => ImageNetSample.TopK(scores, 1)[0];

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

    private static byte[] Model(bool withClassifier)
    {
        var b = new OnnxGraphBuilder();
        b.Graph.Name = withClassifier ? "coarse" : "pooled";
        b.Graph.Input.Add(OnnxGraphBuilder.ValueInfo(MobileNetSplit.Cut, OnnxElementType.Float, [1, Channels, 14, 14], "N"));
        string pooled = b.Emit("GlobalAveragePool", "pool", [MobileNetSplit.Cut]);
        string flat = b.Emit("Flatten", "flat", [pooled]);
        string output = flat;
        if (withClassifier)
        {
            var random = new Random(5);
            var weights = new float[Channels * CoarseClasses];
            for (int i = 0; i < weights.Length; i++) weights[i] = (float)(random.NextDouble() - 0.5);
            var bias = new float[CoarseClasses];
            output = b.Emit("Gemm", "logits", [flat, b.AddFloats("w", weights, Channels, CoarseClasses), b.AddFloats("b", bias, CoarseClasses)]);
        }
        b.Graph.Output.Add(OnnxGraphBuilder.ValueInfo(output, OnnxElementType.Float, [1, withClassifier ? CoarseClasses : Channels], "N"));
        var proto = new ModelProto { IrVersion = 8, ProducerName = "cleave-tests", Graph = b.Graph };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return proto.ToByteArray();
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
