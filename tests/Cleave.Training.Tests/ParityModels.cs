using Cleave.Models.Importers.TfLite;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Profiling;
using Cleave.Models.Tests;
using Google.Protobuf;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Cleave.Training.Tests;

/// <summary>Models, images and comparisons shared by the tests that hold TorchSharp against ONNX Runtime.</summary>
internal static class ParityModels
{
    /// <summary>A TFLite asset imported in memory as Cleave's import command does.</summary>
    public static (OnnxModel Model, PreprocessingSpec Spec) Import(string visionFile)
    {
        string path = TestAssets.Path("vision", visionFile);
        var proto = TfLiteImporter.Convert(TfLiteModel.Load(path), visionFile, null, out var spec);
        return (OnnxModel.FromProto(proto), spec ?? throw new InvalidOperationException("the import recorded no preprocessing"));
    }

    /// <summary>The first <paramref name="count"/> ImageNet sample images, preprocessed, as one NCHW batch.</summary>
    public static float[] Images(PreprocessingSpec spec, int count, int skip = 0)
    {
        var images = ImageNetSample.FromAssets(TestAssets.Root!).Skip(skip).Take(count).ToList();
        Assert.Equal(count, images.Count);
        int each = ImagePreprocessor.ElementCount(spec);
        var batch = new float[each * count];
        for (int i = 0; i < count; i++)
            ImagePreprocessor.Process(RgbImage.Load(images[i].Path), spec, batch.AsSpan(i * each, each));
        return batch;
    }

    /// <summary>Runs <paramref name="model"/> on ONNX Runtime, asking for <paramref name="outputs"/> (intermediate tensors allowed).</summary>
    public static Dictionary<string, HostTensor> RunOrt(OnnxModel model, string inputName, long[] shape, float[] data, params string[] outputs)
    {
        var proto = model.Proto.Clone();
        foreach (string o in outputs)
            if (!proto.Graph.Output.Any(v => v.Name == o))
                proto.Graph.Output.Add(new ValueInfoProto { Name = o });
        using var runner = new OrtModelRunner(proto.ToByteArray(), intraOpThreads: 2);
        return runner.Run(new Dictionary<string, HostTensor> { [inputName] = new(OnnxElementType.Float, shape, data) }, outputs);
    }

    /// <summary>max |torch - ort| / max |ort|: the largest error relative to the tensor's range (elementwise ratios blow up near zero).</summary>
    public static double MaxRelativeDifference(Tensor actual, HostTensor expected)
    {
        var reference = (float[])expected.Data;
        Assert.Equal(expected.Shape, actual.shape);
        var got = actual.detach().cpu().contiguous().data<float>().ToArray();
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(got[i] - reference[i]));
            maxRef = Math.Max(maxRef, Math.Abs(reference[i]));
        }
        return maxDiff / Math.Max(maxRef, 1e-12);
    }
}
