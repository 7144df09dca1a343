using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Profiling;

namespace Cleave.Runtime.Client;

/// <summary>
/// The device side of a split image classifier: decode and preprocess an image as the model records
/// (<c>cleave.preprocess.*</c> metadata kept in head.onnx), run the head, encode the cut tensor into a frame.
/// </summary>
public sealed class SplitHead : IDisposable
{
    private readonly OrtModelRunner _runner;
    private readonly string _inputName;
    private readonly string _cutName;

    private SplitHead(OrtModelRunner runner, PreprocessingSpec spec, string inputName, string cutName)
    {
        _runner = runner;
        Preprocessing = spec;
        _inputName = inputName;
        _cutName = cutName;
    }

    public PreprocessingSpec Preprocessing { get; }

    public static SplitHead Load(SplitDirectory split, int threads = 0)
    {
        var model = OnnxModel.Load(split.HeadPath);
        var spec = PreprocessingSpec.FromMetadata(model.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value))
            ?? throw new InvalidOperationException($"'{split.HeadPath}' records no preprocessing (split a model imported by `cleave import`)");
        if (split.Manifest.HeadInputs.Count != 1)
            throw new NotSupportedException($"the head takes {split.Manifest.HeadInputs.Count} inputs; only single-image heads are supported");
        var runner = new OrtModelRunner(model.ToBytes(), threads);
        return new SplitHead(runner, spec, split.Manifest.HeadInputs[0].Name, split.Manifest.Cut[0].Name);
    }

    /// <summary>Runs the head on an image; returns the cut tensor's values and shape.</summary>
    public (float[] Values, TensorShape Shape) Run(RgbImage image)
    {
        var pixels = ImagePreprocessor.Process(image, Preprocessing);
        long[] shape = Preprocessing.Layout == "NCHW"
            ? [1, Preprocessing.Channels, Preprocessing.Height, Preprocessing.Width]
            : [1, Preprocessing.Height, Preprocessing.Width, Preprocessing.Channels];
        var feature = _runner.Run(new Dictionary<string, HostTensor> { [_inputName] = new(OnnxElementType.Float, shape, pixels) }, [_cutName])[_cutName];
        var dims = new int[feature.Shape.Length];
        for (int i = 0; i < dims.Length; i++) dims[i] = checked((int)feature.Shape[i]);
        return ((float[])feature.Data, new TensorShape(dims));
    }

    /// <summary>
    /// Head then codec: the frame a device would send for this image file. With <paramref name="exit"/>, the exit runs
    /// on the cut tensor too (its time counted in the head's) and its verdict rides along on the frame. With
    /// <paramref name="gate"/>, the gate chooses the codec setting from its ladder instead of <paramref name="codec"/>
    /// (its time counted in the head's too).
    /// </summary>
    public EncodedFrame Encode(string imagePath, FeatureCodec codec, DeviceExit? exit = null, DeviceGate? gate = null)
    {
        ArgumentNullException.ThrowIfNull(codec);
        var image = RgbImage.Load(imagePath);
        long start = Stopwatch.GetTimestamp();
        var (values, shape) = Run(image);
        var dims = new long[shape.Rank];
        for (int i = 0; i < dims.Length; i++) dims[i] = shape[i];
        ExitAnswer? answer = exit?.Decide(values, dims);
        GateDecision? decision = gate is not null && answer is not { Exited: true } ? gate.Choose(values, dims) : null;
        if (decision is not null) codec = decision.Codec;
        double headMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        start = Stopwatch.GetTimestamp();
        byte[] frame = codec.Encode(values, shape);
        return new EncodedFrame(frame, shape, headMs, Stopwatch.GetElapsedTime(start).TotalMilliseconds) { Exit = answer, Gate = decision };
    }

    public void Dispose() => _runner.Dispose();
}
