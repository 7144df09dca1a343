using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cleave.Models.Text;

/// <summary>
/// One loaded KV-cached ONNX stage (a full model, a split head or a split tail), shareable by many caches: one primary
/// input (token ids or a hidden state) plus <c>past_*</c> inputs, one primary output plus either <c>present_*</c>
/// outputs (the growing form: present = past + new rows) or, with a <c>position</c> input, <c>new_*</c> outputs (the
/// fixed-capacity form: the caches hold the whole context, <c>past_key_*</c> transposed [1, heads, head_size, C] and
/// <c>past_value_*</c> [1, heads, C, head_size], and only the new rows [1, heads, T, head_size] come out).
/// Runs are thread-safe, so a server keeps one model and one <see cref="KvCacheSession"/> per client.
/// </summary>
public sealed class KvCacheModel : IDisposable
{
    private const string PastPrefix = "past_", PresentPrefix = "present_", NewPrefix = "new_", PastKeyPrefix = "past_key_";

    /// <summary>The fixed-capacity form's input: how many cache rows are valid (the position of the first new token), int64 [1].</summary>
    public const string PositionInput = "position";

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;   // primary, then pasts (the fixed-capacity form: primary, position, pasts)
    private readonly string[] _outputNames;  // primary, then the matching presents (or new rows)
    private readonly long[][] _emptyPastShapes;
    private readonly bool[] _keysTransposed;

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
            HasFixedCapacity = session.InputMetadata.ContainsKey(PositionInput);
            string outputPrefix = HasFixedCapacity ? NewPrefix : PresentPrefix;
            var pasts = session.InputNames.Where(n => n.StartsWith(PastPrefix, StringComparison.Ordinal)).ToArray();
            var primaryInputs = session.InputNames.Where(n => !n.StartsWith(PastPrefix, StringComparison.Ordinal) && n != PositionInput).ToArray();
            var primaryOutputs = session.OutputNames.Where(n => !n.StartsWith(outputPrefix, StringComparison.Ordinal)).ToArray();
            if (primaryInputs.Length != 1 || primaryOutputs.Length != 1 || pasts.Length == 0)
                throw new InvalidDataException($"{what} is not a KV-cached stage: it needs one input besides past_* and position ({primaryInputs.Length} found), " +
                    $"one output besides {outputPrefix}* ({primaryOutputs.Length} found) and at least one past_* input");
            InputName = primaryInputs[0];
            OutputName = primaryOutputs[0];
            _inputNames = HasFixedCapacity ? [InputName, PositionInput, .. pasts] : [InputName, .. pasts];
            _outputNames = new string[pasts.Length + 1];
            _outputNames[0] = OutputName;
            _emptyPastShapes = new long[pasts.Length][];
            _keysTransposed = new bool[pasts.Length];
            long bytesPerToken = 0;
            int capacity = int.MaxValue;
            for (int i = 0; i < pasts.Length; i++)
            {
                string output = outputPrefix + pasts[i][PastPrefix.Length..];
                if (!session.OutputMetadata.ContainsKey(output)) throw new InvalidDataException($"{what} has input {pasts[i]} but no output {output}");
                _outputNames[i + 1] = output;
                var dims = session.InputMetadata[pasts[i]].Dimensions;
                if (dims.Length != 4) throw new InvalidDataException($"{what}: {pasts[i]} must have 4 dimensions");
                if (HasFixedCapacity)
                {
                    // Keys transposed [1, heads, head_size, C], values [1, heads, C, head_size]: every size fixed, one C for all.
                    bool transposed = pasts[i].StartsWith(PastKeyPrefix, StringComparison.Ordinal);
                    long rows = transposed ? dims[3] : dims[2], headSize = transposed ? dims[2] : dims[3];
                    if (dims[0] != 1 || dims[1] <= 0 || headSize <= 0 || rows <= 0 || rows > int.MaxValue || (capacity != int.MaxValue && rows != capacity))
                        throw new InvalidDataException($"{what}: {pasts[i]} must be {(transposed ? "[1, heads, head_size, C]" : "[1, heads, C, head_size]")} with fixed sizes and the same C as the other caches");
                    capacity = (int)rows;
                    _keysTransposed[i] = transposed;
                    _emptyPastShapes[i] = [1, dims[1], 0, headSize];
                    bytesPerToken += dims[1] * headSize * sizeof(float);
                    continue;
                }
                if (dims[1] <= 0 || dims[3] <= 0) throw new InvalidDataException($"{what}: {pasts[i]} must be [1, heads, P, head_size] with fixed heads and head size");
                _emptyPastShapes[i] = [1, dims[1], 0, dims[3]];
                bytesPerToken += (long)dims[1] * dims[3] * sizeof(float);
            }
            Capacity = capacity;
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

    /// <summary>True for the fixed-capacity form: each cache is allocated once for <see cref="Capacity"/> tokens and a step writes only its new rows.</summary>
    public bool HasFixedCapacity { get; }

    /// <summary>Tokens a cache of the fixed-capacity form holds (the model's context); <see cref="int.MaxValue"/> for the growing form.</summary>
    public int Capacity { get; }

    /// <summary>The past_* input names, in the order of a cache's tensors.</summary>
    internal ReadOnlySpan<string> PastNames => _inputNames.AsSpan(HasFixedCapacity ? 2 : 1);

    /// <summary>The primary output's name and the new-row (or present) outputs' names, in cache order.</summary>
    internal ReadOnlySpan<string> OutputNames => _outputNames;

    /// <summary>
    /// Key/value heads and head size of cache tensor <paramref name="index"/>, and whether it is stored transposed
    /// ([1, heads, head_size, C]: the fixed-capacity form's keys).
    /// </summary>
    internal (int Heads, int HeadSize, bool Transposed) PastGeometry(int index) =>
        ((int)_emptyPastShapes[index][1], (int)_emptyPastShapes[index][3], _keysTransposed[index]);

    /// <summary>An empty cache (P = 0) for a new sequence (the growing form).</summary>
    public OrtValue[] CreateEmptyPast()
    {
        if (HasFixedCapacity) throw new InvalidOperationException("a fixed-capacity stage's caches are allocated by KvCacheSession");
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
        if (HasFixedCapacity) throw new InvalidOperationException("a fixed-capacity stage runs through KvCacheSession");
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

    /// <summary>
    /// One run of the fixed-capacity form into caller-allocated outputs: <paramref name="inputs"/> are the primary input,
    /// the position and the caches (in <see cref="PastNames"/> order), <paramref name="outputs"/> the primary output and
    /// the new rows (in the same order), all shaped for this run's token count.
    /// </summary>
    internal void RunInto(IReadOnlyCollection<OrtValue> inputs, IReadOnlyCollection<OrtValue> outputs) =>
        _session.Run(_runOptions, _inputNames, inputs, _outputNames, outputs);

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }
}
