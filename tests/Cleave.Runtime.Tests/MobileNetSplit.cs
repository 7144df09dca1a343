using Cleave.Models.Importers.TfLite;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Splitting;

namespace Cleave.Runtime.Tests;

/// <summary>
/// MobileNetV2 imported from the shared TFLite file and split mid-network, made once per test run in a temporary
/// folder (import and split take well under a second) and shared by the tests that serve it.
/// </summary>
public static class MobileNetSplit
{
    public const string TfLite = "vision/mobilenet_v2_1.0_224_quant.tflite";
    public const string Cut = "MobilenetV2/expanded_conv_9/add";

    private static readonly Lazy<string> Folder = new(Build);

    /// <summary>The imported whole model (full mode).</summary>
    public static string ModelPath => Path.Combine(Folder.Value, "mnv2.onnx");

    /// <summary>The split folder: head.onnx, tail.onnx, split.json.</summary>
    public static string SplitPath => Path.Combine(Folder.Value, "split");

    /// <summary>The first <paramref name="count"/> images of the shared ImageNet sample, in name order.</summary>
    public static IReadOnlyList<string> Images(int count) =>
        [.. ImageNetSample.FromAssets(TestAssets.Root!).Take(count).Select(i => i.Path)];

    private static string Build()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"cleave-runtime-tests-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        string model = Path.Combine(folder, "mnv2.onnx");
        TfLiteImporter.Import(TestAssets.Path(TfLite), model);
        ModelSplitter.Split(OnnxModel.Load(model), [Cut], sourceName: "mnv2.onnx").Save(Path.Combine(folder, "split"));
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return folder;
    }
}
