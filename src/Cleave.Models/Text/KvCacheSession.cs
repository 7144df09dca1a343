using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cleave.Models.Text;

/// <summary>
/// Runs one KV-cached ONNX stage (a full model, a split head or a split tail) token after token: one primary input
/// (token ids or a hidden state) plus <c>past_*</c> inputs, one primary output plus <c>present_*</c> outputs. Each run's
/// presents become the next run's pasts, kept as native <see cref="OrtValue"/>s so the cache is never copied.
/// </summary>
public sealed class KvCacheSession : IDisposable
{
    private const string PastPrefix = "past_", PresentPrefix = "present_";

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;   // primary, then pasts
    private readonly string[] _outputNames;  // primary, then the matching presents
    private readonly long[][] _emptyPastShapes;
    private OrtValue[] _past;

    public KvCacheSession(string modelPath, SessionOptions? options = null)
        : this(options is null ? new InferenceSession(modelPath) : new InferenceSession(modelPath, options), modelPath)
    {
    }

    public KvCacheSession(byte[] model, SessionOptions? options = null)
        : this(options is null ? new InferenceSession(model) : new InferenceSession(model, options), "in-memory model")
    {
    }

    private KvCacheSession(InferenceSession session, string what)
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
            for (int i = 0; i < pasts.Length; i++)
            {
                string present = PresentPrefix + pasts[i][PastPrefix.Length..];
                if (!session.OutputMetadata.ContainsKey(present)) throw new InvalidDataException($"{what} has input {pasts[i]} but no output {present}");
                _outputNames[i + 1] = present;
                var dims = session.InputMetadata[pasts[i]].Dimensions;
                if (dims.Length != 4 || dims[1] <= 0 || dims[3] <= 0) throw new InvalidDataException($"{what}: {pasts[i]} must be [1, heads, P, head_size] with fixed heads and head size");
                _emptyPastShapes[i] = [1, dims[1], 0, dims[3]];
            }
            var inputMeta = session.InputMetadata[InputName];
            TakesTokens = inputMeta.ElementDataType == TensorElementType.Int64;
            InputWidth = TakesTokens ? 1 : inputMeta.Dimensions[^1];
            OutputWidth = session.OutputMetadata[OutputName].Dimensions[^1];
            CacheLayers = pasts.Length / 2;
            _past = CreateEmptyPast();
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

    /// <summary>Tokens already in the cache (the position of the next token).</summary>
    public int PastLength { get; private set; }

    /// <summary>Runs token ids through the stage; returns its output for each token, [T * OutputWidth].</summary>
    public float[] Run(ReadOnlySpan<int> tokens)
    {
        if (!TakesTokens) throw new InvalidOperationException($"this stage takes a hidden state ({InputName}), not token ids");
        if (tokens.IsEmpty) throw new ArgumentException("at least one token is needed", nameof(tokens));
        var ids = new long[tokens.Length];
        for (int i = 0; i < ids.Length; i++) ids[i] = tokens[i];
        using var input = OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]);
        return RunValue(input, tokens.Length);
    }

    /// <summary>Runs a hidden state [T * InputWidth] through the stage; returns [T * OutputWidth].</summary>
    public float[] Run(ReadOnlySpan<float> hidden)
    {
        if (TakesTokens) throw new InvalidOperationException($"this stage takes token ids ({InputName}), not a hidden state");
        if (hidden.IsEmpty || hidden.Length % InputWidth != 0)
            throw new ArgumentException($"the hidden state must hold a positive multiple of {InputWidth} values, not {hidden.Length}", nameof(hidden));
        var copy = hidden.ToArray();
        int tokens = copy.Length / InputWidth;
        using var input = OrtValue.CreateTensorValueFromMemory(copy, [1, tokens, InputWidth]);
        return RunValue(input, tokens);
    }

    /// <summary>Forgets the cache: the next run starts at position 0.</summary>
    public void Reset()
    {
        DisposePast();
        _past = CreateEmptyPast();
        PastLength = 0;
    }

    private float[] RunValue(OrtValue input, int tokens)
    {
        var inputs = new OrtValue[_past.Length + 1];
        inputs[0] = input;
        _past.CopyTo(inputs, 1);
        var outputs = _session.Run(_runOptions, _inputNames, inputs, _outputNames);
        // The presents are kept as the next pasts; only the primary output is copied out and released.
        float[] result;
        using (var primary = outputs[0]) result = primary.GetTensorDataAsSpan<float>().ToArray();
        DisposePast();
        var next = new OrtValue[_past.Length];
        for (int i = 0; i < next.Length; i++) next[i] = outputs[i + 1];
        _past = next;
        PastLength += tokens;
        return result;
    }

    private OrtValue[] CreateEmptyPast()
    {
        var past = new OrtValue[_emptyPastShapes.Length];
        for (int i = 0; i < past.Length; i++)
            past[i] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, _emptyPastShapes[i]);
        return past;
    }

    private void DisposePast()
    {
        foreach (var value in _past) value.Dispose();
    }

    public void Dispose()
    {
        DisposePast();
        _past = [];
        _runOptions.Dispose();
        _session.Dispose();
    }
}
