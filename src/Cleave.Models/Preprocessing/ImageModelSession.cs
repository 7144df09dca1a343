using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cleave.Models.Preprocessing;

/// <summary>
/// An ONNX image model ready to run on decoded images: it reads the <see cref="PreprocessingSpec"/> from the model's
/// metadata (or takes one), preprocesses into a pooled batch buffer and returns the first output as floats.
/// </summary>
public sealed class ImageModelSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string _outputName;

    public ImageModelSession(string onnxPath, PreprocessingSpec? spec = null, SessionOptions? options = null)
    {
        _session = options is null ? new InferenceSession(onnxPath) : new InferenceSession(onnxPath, options);
        try
        {
            Spec = spec ?? PreprocessingSpec.FromMetadata(_session.ModelMetadata.CustomMetadataMap)
                ?? throw new InvalidOperationException($"'{onnxPath}' records no preprocessing (cleave.preprocess.* metadata); pass a spec");
            _inputName = _session.InputMetadata.ContainsKey(Spec.InputName) ? Spec.InputName : _session.InputNames[0];
            _outputName = _session.OutputNames[0];
            var dims = _session.InputMetadata[_inputName].Dimensions;
            MaxBatch = dims.Length > 0 && dims[0] > 0 ? dims[0] : int.MaxValue;
            OutputType = _session.OutputMetadata[_outputName].ElementDataType;
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    public PreprocessingSpec Spec { get; }
    public string OutputName => _outputName;

    /// <summary>Largest batch the model accepts (1 for a fixed-batch import).</summary>
    public int MaxBatch { get; }

    public TensorElementType OutputType { get; }

    public float[] Run(RgbImage image) => RunBatch([image])[0];

    /// <summary>Runs the images (split into batches of at most <see cref="MaxBatch"/>) and returns each image's output.</summary>
    public float[][] RunBatch(IReadOnlyList<RgbImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var results = new float[images.Count][];
        int per = ImagePreprocessor.ElementCount(Spec);
        for (int start = 0; start < images.Count; start += MaxBatch)
        {
            int count = Math.Min(MaxBatch, images.Count - start);
            var input = new float[count * per];
            for (int i = 0; i < count; i++) ImagePreprocessor.Process(images[start + i], Spec, input.AsSpan(i * per, per));
            long[] shape = Spec.Layout == "NCHW" ? [count, Spec.Channels, Spec.Height, Spec.Width] : [count, Spec.Height, Spec.Width, Spec.Channels];
            using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, [_inputName], [value], [_outputName]);
            var output = outputs[0];
            long total = output.GetTensorTypeAndShape().ElementCount;
            int each = (int)(total / count);
            for (int i = 0; i < count; i++) results[start + i] = ReadFloats(output, i * each, each);
        }
        return results;
    }

    private static float[] ReadFloats(OrtValue value, int offset, int count)
    {
        var result = new float[count];
        switch (value.GetTensorTypeAndShape().ElementDataType)
        {
            case TensorElementType.Float: value.GetTensorDataAsSpan<float>().Slice(offset, count).CopyTo(result); break;
            case TensorElementType.Int64:
                var longs = value.GetTensorDataAsSpan<long>().Slice(offset, count);
                for (int i = 0; i < count; i++) result[i] = longs[i];
                break;
            case TensorElementType.Int32:
                var ints = value.GetTensorDataAsSpan<int>().Slice(offset, count);
                for (int i = 0; i < count; i++) result[i] = ints[i];
                break;
            default: throw new NotSupportedException($"output type {value.GetTensorTypeAndShape().ElementDataType} is not supported");
        }
        return result;
    }

    public void Dispose() => _session.Dispose();
}
