using System.Security.Cryptography;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Runtime.Protocol;

namespace Cleave.Runtime.Serving;

/// <summary>
/// Full mode, the baseline split computing is compared with: payloads are encoded image files (JPEG, PNG, ...); the
/// server decodes them, applies the preprocessing the model records, and runs the whole model.
/// </summary>
public sealed class FullModelBackend : InferenceBackend
{
    private FullModelBackend(byte[] model, PreprocessingSpec spec, long[] sampleShape, bool batchable, int threads, string hash)
        : base(model, spec.InputName, sampleShape, batchable, threads)
    {
        Preprocessing = spec;
        ModelHash = hash;
    }

    public PreprocessingSpec Preprocessing { get; }

    public override string Mode => ServingModes.Full;

    public override string ModelHash { get; }

    public static FullModelBackend Load(string modelPath, int threads = 0)
    {
        byte[] bytes = File.ReadAllBytes(modelPath);
        var model = OnnxModel.Load(modelPath);
        var spec = PreprocessingSpec.FromMetadata(model.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value))
            ?? throw new InvalidOperationException($"'{modelPath}' records no preprocessing (import it with `cleave import`)");
        var input = model.Proto.Graph.Input.FirstOrDefault(i => i.Name == spec.InputName)
            ?? throw new InvalidOperationException($"'{modelPath}' has no input '{spec.InputName}' (named by its preprocessing metadata)");
        var batchDim = input.Type.TensorType.Shape.Dim[0];
        bool batchable = batchDim.ValueCase != global::Onnx.TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue;
        long[] shape = spec.Layout == "NCHW" ? [1, spec.Channels, spec.Height, spec.Width] : [1, spec.Height, spec.Width, spec.Channels];
        return new FullModelBackend(bytes, spec, shape, batchable, threads, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    public override float[] Prepare(ReadOnlyMemory<byte> payload)
    {
        RgbImage image;
        try { image = RgbImage.Decode(payload.Span); }
        catch (Exception e) when (e is InvalidDataException or ArgumentException)
        {
            throw new SplitInferenceException(ErrorCode.MalformedFrame, $"the payload is not a decodable image: {e.Message}", 0, e);
        }
        var values = new float[SampleElements];
        // An image already at the model's input size was cropped and resized by the device (the JPEG-offload baseline
        // sends exactly that): cropping it again would throw away a border the device already removed.
        var spec = image.Width == Preprocessing.Width && image.Height == Preprocessing.Height
            ? Preprocessing with { CropFraction = 1.0 } : Preprocessing;
        ImagePreprocessor.Process(image, spec, values);
        return values;
    }
}
