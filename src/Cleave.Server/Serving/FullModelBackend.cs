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
    private readonly ServerLimits _limits;

    private FullModelBackend(byte[] model, PreprocessingSpec spec, long[] sampleShape, bool batchable, int threads, string hash, ServerLimits limits)
        : base(model, spec.InputName, sampleShape, batchable, threads)
    {
        Preprocessing = spec;
        ModelHash = hash;
        _limits = limits;
        DecodeBudget = new MemoryBudget(limits.DecodeMemoryBudgetBytes);
    }

    /// <summary>Decoded pixels of the requests being decoded now, against <see cref="ServerLimits.DecodeMemoryBudgetBytes"/>.</summary>
    public MemoryBudget DecodeBudget { get; }

    public PreprocessingSpec Preprocessing { get; }

    public override string Mode => ServingModes.Full;

    public override string ModelHash { get; }

    public static FullModelBackend Load(string modelPath, int threads = 0, ServerLimits? limits = null)
    {
        limits ??= new ServerLimits();
        limits.Validate();
        byte[] bytes = File.ReadAllBytes(modelPath);
        var model = OnnxModel.Load(modelPath);
        var spec = PreprocessingSpec.FromMetadata(model.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value))
            ?? throw new InvalidOperationException($"'{modelPath}' records no preprocessing (import it with `cleave import`)");
        var input = model.Proto.Graph.Input.FirstOrDefault(i => i.Name == spec.InputName)
            ?? throw new InvalidOperationException($"'{modelPath}' has no input '{spec.InputName}' (named by its preprocessing metadata)");
        var batchDim = input.Type.TensorType.Shape.Dim[0];
        bool batchable = batchDim.ValueCase != global::Onnx.TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue;
        long[] shape = spec.Layout == "NCHW" ? [1, spec.Channels, spec.Height, spec.Width] : [1, spec.Height, spec.Width, spec.Channels];
        return new FullModelBackend(bytes, spec, shape, batchable, threads, Convert.ToHexStringLower(SHA256.HashData(bytes)), limits);
    }

    /// <summary>
    /// Decodes an untrusted image at bounded cost: the header's declared size is checked against the pixel limit
    /// before anything is allocated, the image is decoded at the smallest scale the codec offers that still leaves the
    /// preprocessing at least twice the pixels it samples (JPEG: down to 1/8), the decoded bytes are reserved from the
    /// decode budget first, and an image whose data ends early is refused instead of being answered from filler rows.
    /// </summary>
    public override void Prepare(ReadOnlyMemory<byte> payload, Span<float> destination)
    {
        EncodedImage encoded;
        try { encoded = EncodedImage.Open(payload.Span); }
        catch (InvalidDataException e) { throw Malformed(e); }
        using (encoded)
        {
            long pixels = (long)encoded.Width * encoded.Height;
            if (pixels > _limits.MaxImagePixels)
                throw new SplitInferenceException(ErrorCode.InvalidRequest,
                    $"the image declares {encoded.Width}x{encoded.Height} pixels; this server decodes at most {_limits.MaxImagePixels} pixels per image");
            var (width, height) = encoded.ScaledSize(MinimumDecodeSize(encoded.Width, Preprocessing.Width), MinimumDecodeSize(encoded.Height, Preprocessing.Height));
            long bytes = EncodedImage.DecodeBytes(width, height);
            if (!DecodeBudget.TryReserve(bytes))
                throw bytes > DecodeBudget.CapacityBytes
                    ? new SplitInferenceException(ErrorCode.InvalidRequest, $"decoding this {encoded.Width}x{encoded.Height} image takes {bytes} bytes, more than the server's decode budget ({DecodeBudget.CapacityBytes})")
                    : new SplitInferenceException(ErrorCode.ResourceExhausted, $"the server is decoding other images ({DecodeBudget.UsedBytes} of {DecodeBudget.CapacityBytes} bytes in use); retry later", RetryAfterMs);
            try
            {
                RgbImage image;
                try { image = encoded.Decode(width, height); }
                catch (InvalidDataException e) { throw Malformed(e); }
                // An image already at the model's input size was cropped and resized by the device (the JPEG-offload
                // baseline sends exactly that): cropping it again would throw away a border the device already removed.
                var spec = encoded.Width == Preprocessing.Width && encoded.Height == Preprocessing.Height
                    ? Preprocessing with { CropFraction = 1.0 } : Preprocessing;
                ImagePreprocessor.Process(image, spec, destination[..SampleElements]);
            }
            finally
            {
                DecodeBudget.Release(bytes);
            }
        }
    }

    private const uint RetryAfterMs = 50;

    /// <summary>
    /// Along one side: the central crop must still hold twice the model's input size (bilinear resizing without
    /// antialiasing reads 2 pixels per output pixel, so more resolution than that changes nothing); at most the declared size.
    /// </summary>
    private int MinimumDecodeSize(int declared, int modelSide) =>
        (int)Math.Min(declared, Math.Ceiling(2.0 * modelSide / Preprocessing.CropFraction));

    private static SplitInferenceException Malformed(InvalidDataException e) =>
        new(ErrorCode.MalformedFrame, $"the payload is not a decodable image: {e.Message}", 0, e);
}
