using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Splitting;
using Cleave.Models.Tests;

namespace Cleave.Training.Tests;

/// <summary>
/// The imported MobileNetV2 saved as <c>mnv2.onnx</c> in a test's folder and split at one cut into <c>split/</c>: the
/// starting point of every trainer that attaches to an existing split folder (gate, error-aware decoder).
/// </summary>
internal sealed record MobileNetV2Split(string ModelPath, PreprocessingSpec Spec, SplitModels Split, string SplitFolder)
{
    public static MobileNetV2Split Create(string folder, string cut)
    {
        var (model, spec) = ParityModels.Import("mobilenet_v2_1.0_224_quant.tflite");
        string path = Path.Combine(folder, "mnv2.onnx");
        model.Save(path);
        var split = ModelSplitter.Split(new SplitAnalysis(model), [cut], "mnv2.onnx");
        string splitFolder = Path.Combine(folder, "split");
        split.Save(splitFolder);
        return new MobileNetV2Split(path, spec, split, splitFolder);
    }
}
