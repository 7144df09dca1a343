using Cleave.Codecs;
using Cleave.Codecs.Npy;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Profiling;
using Cleave.Models.Splitting;

namespace Cleave.Models.Features;

/// <summary>
/// Writes the intermediate feature of each image at a cut of an image model, as .npy, with the preprocessing the model
/// records (the same code evaluation uses), so codecs can be studied on real features. The head is cut with the split
/// library, so only a valid split point is accepted.
/// </summary>
public static class ImageFeatureDump
{
    /// <returns>The .npy files written: one per image, or one per image and cut tensor for a multi-tensor cut.</returns>
    public static IReadOnlyList<string> Write(string modelPath, IReadOnlyList<string> cutTensors, IReadOnlyList<string> images,
        string outputDirectory, PreprocessingSpec? spec = null, Action<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(cutTensors);
        ArgumentNullException.ThrowIfNull(images);
        var model = OnnxModel.Load(modelPath);
        spec ??= PreprocessingSpec.FromMetadata(model.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value))
            ?? throw new InvalidOperationException($"'{modelPath}' records no preprocessing (cleave.preprocess.* metadata); import it with `cleave import` or pass a spec");
        var split = ModelSplitter.Split(model, cutTensors);
        using var head = new OrtModelRunner(split.Head.ToBytes());
        string inputName = head.InputNames.Contains(spec.InputName) ? spec.InputName : head.InputNames[0];

        Directory.CreateDirectory(outputDirectory);
        var written = new List<string>();
        for (int i = 0; i < images.Count; i++)
        {
            progress?.Invoke(i);
            var pixels = ImagePreprocessor.Process(RgbImage.Load(images[i]), spec);
            var input = new HostTensor(OnnxElementType.Float, [1, spec.Channels, spec.Height, spec.Width], pixels);
            var outputs = head.Run(new Dictionary<string, HostTensor> { [inputName] = input }, cutTensors);
            string stem = Path.GetFileNameWithoutExtension(images[i]);
            for (int t = 0; t < cutTensors.Count; t++)
            {
                var tensor = outputs[cutTensors[t]];
                if (tensor.Data is not float[] values)
                    throw new NotSupportedException($"cut tensor '{cutTensors[t]}' is {OnnxElementType.Name(tensor.ElementType)}, only float features are dumped");
                string path = Path.Combine(outputDirectory, cutTensors.Count == 1 ? $"{stem}.npy" : $"{stem}.{t}.npy");
                NpyFile.WriteFloat32(path, values, new TensorShape(tensor.Shape.Select(d => checked((int)d)).ToArray()));
                written.Add(path);
            }
        }
        return written;
    }
}
