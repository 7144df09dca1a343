using Cleave.Models.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace Cleave.Models.Profiling;

/// <summary>
/// Runs an ONNX model with ONNX Runtime on the CPU through the OrtValue API (tensors pinned over managed arrays;
/// the <c>Tensor&lt;T&gt;</c> interop breaks with System.Numerics.Tensors 10, see DESIGN.md).
/// </summary>
public sealed class OrtModelRunner : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();

    public OrtModelRunner(byte[] model, int intraOpThreads = 0)
    {
        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        if (intraOpThreads > 0) options.IntraOpNumThreads = intraOpThreads;
        try { _session = new InferenceSession(model, options); }
        catch (OnnxRuntimeException e) { throw new InvalidOperationException($"ONNX Runtime cannot load the model: {e.Message}", e); }
    }

    public IReadOnlyList<string> InputNames => [.. _session.InputMetadata.Keys];

    public IReadOnlyList<string> OutputNames => [.. _session.OutputMetadata.Keys];

    /// <summary>Runs once; returns the requested outputs (all outputs when <paramref name="outputNames"/> is null).</summary>
    public Dictionary<string, HostTensor> Run(IReadOnlyDictionary<string, HostTensor> inputs, IReadOnlyList<string>? outputNames = null)
    {
        outputNames ??= OutputNames;
        var names = new List<string>(inputs.Count);
        var values = new List<OrtValue>(inputs.Count);
        try
        {
            foreach (string name in _session.InputMetadata.Keys)
            {
                if (!inputs.TryGetValue(name, out var tensor))
                    throw new ArgumentException($"the model needs input '{name}', which was not given");
                names.Add(name);
                values.Add(ToOrtValue(tensor));
            }
            IDisposableReadOnlyCollection<OrtValue> outputs;
            try { outputs = _session.Run(_runOptions, names, values, outputNames); }
            catch (OnnxRuntimeException e) { throw new InvalidOperationException($"ONNX Runtime failed to run the model: {e.Message}", e); }
            using (outputs)
            {
                var result = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
                for (int i = 0; i < outputNames.Count; i++) result[outputNames[i]] = FromOrtValue(outputs[i]);
                return result;
            }
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    private static OrtValue ToOrtValue(HostTensor t) => t.Data switch
    {
        float[] a => OrtValue.CreateTensorValueFromMemory(a, t.Shape),
        double[] a => OrtValue.CreateTensorValueFromMemory(a, t.Shape),
        long[] a => OrtValue.CreateTensorValueFromMemory(a, t.Shape),
        int[] a => OrtValue.CreateTensorValueFromMemory(a, t.Shape),
        byte[] a => OrtValue.CreateTensorValueFromMemory(a, t.Shape),
        sbyte[] a => OrtValue.CreateTensorValueFromMemory(a, t.Shape),
        bool[] a => OrtValue.CreateTensorValueFromMemory(a, t.Shape),
        _ => throw new NotSupportedException($"cannot feed a {t} tensor to ONNX Runtime"),
    };

    private static HostTensor FromOrtValue(OrtValue value)
    {
        if (!value.IsTensor) throw new NotSupportedException("the model returned a non-tensor output (sequence or map)");
        var info = value.GetTensorTypeAndShape();
        int type = (int)info.ElementDataType;
        long[] shape = info.Shape;
        Array data = type switch
        {
            OnnxElementType.Float => value.GetTensorDataAsSpan<float>().ToArray(),
            OnnxElementType.Double => value.GetTensorDataAsSpan<double>().ToArray(),
            OnnxElementType.Int64 => value.GetTensorDataAsSpan<long>().ToArray(),
            OnnxElementType.Int32 => value.GetTensorDataAsSpan<int>().ToArray(),
            OnnxElementType.UInt8 => value.GetTensorDataAsSpan<byte>().ToArray(),
            OnnxElementType.Int8 => value.GetTensorDataAsSpan<sbyte>().ToArray(),
            OnnxElementType.Bool => value.GetTensorDataAsSpan<bool>().ToArray(),
            _ => throw new NotSupportedException($"the model returned a {OnnxElementType.Name(type)} tensor, which Cleave cannot read yet"),
        };
        return new HostTensor(type, shape, data);
    }

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }
}
