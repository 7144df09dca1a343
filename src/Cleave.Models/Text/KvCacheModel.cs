using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cleave.Models.Text;

/// <summary>
/// One loaded KV-cached ONNX stage (a full model, a split head or a split tail), shareable by many caches: one primary
/// input (token ids or a hidden state) plus <c>past_*</c> inputs, one primary output plus <c>present_*</c> outputs.
/// <see cref="Run"/> is thread-safe, so a server keeps one model and one <see cref="KvCacheSession"/> per client.
/// </summary>
public sealed class KvCacheModel : IDisposable
{
    private const string PastPrefix = "past_", PresentPrefix = "present_";

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;   // primary, then pasts
    private readonly string[] _outputNames;  // primary, then the matching presents
    private readonly long[][] _emptyPastShapes;

    public KvCacheModel(string modelPath, SessionOptions? options = null)
        : this(options is null ? new InferenceSession(modelPath) : new InferenceSession(modelPath, options), modelPath)
    {
    }

    public KvCacheModel(byte[] model, SessionOptions? options = null)
        : this(options is null ? new InferenceSession(model) : new InferenceSession(model, options), "in-memory model")
    {
    }

    private KvCacheModel(InferenceSession session, string what)
    {
        _session = session;
        try
        {
            var pasts = session.InputNames.Where(n => n.StartsWith(PastPrefix, StringComparison.Ordinal)).ToArray();
            var primaryInputs = session.InputNames.Where(n => !n.StartsWith(PastPrefix, StringComparison.Ordinal)).ToArray();
            var primaryOutputs = session.OutputNames.Where(n => !n.StartsWith(PresentPrefix, StringComparison.Ordinal)).ToArray();
            if (primaryInputs.Length != 1 || primaryOutputs.Length != 1 || pasts.Length == 0)
                throw new InvalidDataException($"{what} is not a KV-cached stage: it needs one input besides past_* ({primaryInputs.Length} found), " +
                    $"one output besides present_* ({primaryOutputs.Length} found) and at least one past_* input");
            InputName = primaryInputs[0];
            OutputName = primaryOutputs[0];
            _inputNames = [InputName, .. pasts];
            _outputNames = new string[pasts.Length + 1];
            _outputNames[0] = OutputName;
            _emptyPastShapes = new long[pasts.Length][];
            long bytesPerToken = 0;
            for (int i = 0; i < pasts.Length; i++)
            {
                string present = PresentPrefix + pasts[i][PastPrefix.Length..];
                if (!session.OutputMetadata.ContainsKey(present)) throw new InvalidDataException($"{what} has input {pasts[i]} but no output {present}");
                _outputNames[i + 1] = present;
                var dims = session.InputMetadata[pasts[i]].Dimensions;
                if (dims.Length != 4 || dims[1] <= 0 || dims[3] <= 0) throw new InvalidDataException($"{what}: {pasts[i]} must be [1, heads, P, head_size] with fixed heads and head size");
                _emptyPastShapes[i] = [1, dims[1], 0, dims[3]];
                bytesPerToken += (long)dims[1] * dims[3] * sizeof(float);
            }
            var inputMeta = session.InputMetadata[InputName];
            TakesTokens = inputMeta.ElementDataType == TensorElementType.Int64;
            InputWidth = TakesTokens ? 1 : inputMeta.Dimensions[^1];
            OutputWidth = session.OutputMetadata[OutputName].Dimensions[^1];
            CacheLayers = pasts.Length / 2;
            CacheBytesPerToken = bytesPerToken;
        }
        catch
        {
            session.Dispose();
            _runOptions.Dispose();
            throw;
        }
    }

    public string InputName { get; }
    public string OutputName { get; }

    /// <summary>True when the primary input is token ids (int64 [1,T]); else it is a float hidden state [1,T,width].</summary>
    public bool TakesTokens { get; }
    public int InputWidth { get; }
    public int OutputWidth { get; }
    public int CacheLayers { get; }

    /// <summary>Bytes the cache grows by per token (keys and values of every layer this stage holds).</summary>
    public long CacheBytesPerToken { get; }

    /// <summary>The past_* input names, in the order of a cache's tensors.</summary>
    internal ReadOnlySpan<string> PastNames => _inputNames.AsSpan(1);

    /// <summary>Key/value heads and head size of cache tensor <paramref name="index"/> ([1, heads, P, head_size]).</summary>
    internal (int Heads, int HeadSize) PastGeometry(int index) => ((int)_emptyPastShapes[index][1], (int)_emptyPastShapes[index][3]);

    /// <summary>An empty cache (P = 0) for a new sequence.</summary>
    public OrtValue[] CreateEmptyPast()
    {
        var past = new OrtValue[_emptyPastShapes.Length];
        for (int i = 0; i < past.Length; i++)
            past[i] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, _emptyPastShapes[i]);
        return past;
    }

    /// <summary>
    /// Runs <paramref name="input"/> after <paramref name="past"/> (which stays owned by the caller); returns the primary
    /// output [T * OutputWidth] and the presents, which the caller owns and passes as the next past.
    /// </summary>
    public (float[] Output, OrtValue[] Present) Run(OrtValue input, OrtValue[] past)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(past);
        if (past.Length != _emptyPastShapes.Length) throw new ArgumentException($"the cache holds {past.Length} tensors, the stage needs {_emptyPastShapes.Length}", nameof(past));
        var inputs = new OrtValue[past.Length + 1];
        inputs[0] = input;
        past.CopyTo(inputs, 1);
        var outputs = _session.Run(_runOptions, _inputNames, inputs, _outputNames);
        float[] result;
        using (var primary = outputs[0]) result = primary.GetTensorDataAsSpan<float>().ToArray();
        var present = new OrtValue[past.Length];
        for (int i = 0; i < present.Length; i++) present[i] = outputs[i + 1];
        return (result, present);
    }

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }
}
