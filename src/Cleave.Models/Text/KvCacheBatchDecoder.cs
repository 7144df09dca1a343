using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cleave.Models.Text;

/// <summary>
/// Runs one single-token decode step of many <see cref="KvCacheSession"/>s on the same stage as one ONNX Runtime call,
/// with a batched graph (Llama2cExport.BuildTailBatch): the caches are padded to the longest one and masked, each row
/// rotates by its own position, and the graph returns only the new key/value rows, which are written into each
/// session's own fixed-capacity cache. Prefill steps (several tokens) stay on <see cref="KvCacheSession.Run(ReadOnlySpan{float})"/>.
/// The padded input is still gathered from the sessions' caches on every step (<see cref="LastDecodeGatheredBytes"/>):
/// one tensor holding B sessions' caches cannot be a view of B separately allocated caches.
/// </summary>
public sealed class KvCacheBatchDecoder : IDisposable
{
    public const string PositionsInput = "positions", MaskInput = "attention_mask";
    private const string PastPrefix = "past_", NewPrefix = "new_";

    private readonly KvCacheModel _single;
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;  // hidden, positions, mask, then the pasts in the single stage's order
    private readonly string[] _outputNames; // primary, then the new rows in the same order

    /// <param name="batchModelPath">The batched graph of the same layers as <paramref name="single"/>.</param>
    public KvCacheBatchDecoder(string batchModelPath, KvCacheModel single, SessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(single);
        if (single.TakesTokens) throw new ArgumentException("batched decoding takes hidden states, not token ids", nameof(single));
        if (!single.HasFixedCapacity) throw new ArgumentException("batched decoding writes into fixed-capacity caches: import the model again with --splits", nameof(single));
        _single = single;
        _session = options is null ? new InferenceSession(batchModelPath) : new InferenceSession(batchModelPath, options);
        try
        {
            var pasts = single.PastNames;
            _inputNames = new string[pasts.Length + 3];
            _outputNames = new string[pasts.Length + 1];
            (_inputNames[0], _inputNames[1], _inputNames[2], _outputNames[0]) = (single.InputName, PositionsInput, MaskInput, single.OutputName);
            for (int i = 0; i < pasts.Length; i++)
            {
                _inputNames[i + 3] = pasts[i];
                _outputNames[i + 1] = NewPrefix + pasts[i][PastPrefix.Length..];
            }
            foreach (string name in _inputNames)
                if (!_session.InputMetadata.ContainsKey(name)) throw new InvalidDataException($"{batchModelPath} is not the batched form of {single.InputName}'s stage: input {name} is missing");
            foreach (string name in _outputNames)
                if (!_session.OutputMetadata.ContainsKey(name)) throw new InvalidDataException($"{batchModelPath} is not the batched form of {single.InputName}'s stage: output {name} is missing");
        }
        catch
        {
            _session.Dispose();
            _runOptions.Dispose();
            throw;
        }
    }

    /// <summary>Bytes the last <see cref="Decode"/> gathered from the sessions' caches into the padded batch (their rows, O(positions)).</summary>
    public long LastDecodeGatheredBytes { get; private set; }

    /// <summary>
    /// One token for each session: <paramref name="hidden"/> holds row b's hidden state at b * InputWidth. Returns the
    /// primary output [B * OutputWidth] and appends each row's new keys and values to its session's cache.
    /// </summary>
    public float[] Decode(ReadOnlySpan<float> hidden, IReadOnlyList<KvCacheSession> sessions)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        int rows = sessions.Count, width = _single.InputWidth;
        if (rows == 0 || hidden.Length != rows * width)
            throw new ArgumentException($"{rows} sessions need {rows * width} hidden values, not {hidden.Length}", nameof(hidden));
        int longest = 0;
        for (int b = 0; b < rows; b++)
        {
            if (!ReferenceEquals(sessions[b].Model, _single)) throw new ArgumentException($"session {b} runs another stage", nameof(sessions));
            longest = Math.Max(longest, sessions[b].PastLength);
        }

        var positions = new long[rows];
        var mask = new float[rows * (longest + 1)];
        for (int b = 0; b < rows; b++)
        {
            positions[b] = sessions[b].PastLength;
            // Padding between a row's own cache and the new token's column (the last) is masked out.
            mask.AsSpan(b * (longest + 1) + sessions[b].PastLength, longest - sessions[b].PastLength).Fill(float.NegativeInfinity);
        }

        var inputs = new OrtValue[_inputNames.Length];
        OrtValue[]? outputs = null;
        try
        {
            inputs[0] = OrtValue.CreateTensorValueFromMemory(hidden.ToArray(), [rows, 1, width]);
            inputs[1] = OrtValue.CreateTensorValueFromMemory(positions, [rows]);
            inputs[2] = OrtValue.CreateTensorValueFromMemory(mask, [rows, longest + 1]);
            long gathered = 0;
            for (int i = 0; i < _inputNames.Length - 3; i++) inputs[i + 3] = PaddedCache(sessions, i, longest, ref gathered);
            LastDecodeGatheredBytes = gathered;
            outputs = _session.Run(_runOptions, _inputNames, inputs, _outputNames).ToArray();
            float[] result = outputs[0].GetTensorDataAsSpan<float>().ToArray();
            var newRows = new ArraySegment<OrtValue>(outputs, 1, outputs.Length - 1);
            for (int b = 0; b < rows; b++) sessions[b].AppendRow(newRows, b);
            return result;
        }
        finally
        {
            foreach (var value in inputs) value?.Dispose();
            if (outputs is not null) foreach (var value in outputs) value.Dispose();
        }
    }

    /// <summary>Cache tensor <paramref name="index"/> of every session, zero-padded to [B, heads, longest, head_size] (zeros, not garbage: a masked score must stay finite before the mask).</summary>
    private OrtValue PaddedCache(IReadOnlyList<KvCacheSession> sessions, int index, int longest, ref long gathered)
    {
        var (heads, headSize, _) = _single.PastGeometry(index);
        var padded = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, [sessions.Count, heads, longest, headSize]);
        var target = padded.GetTensorMutableDataAsSpan<float>();
        target.Clear();
        int slot = heads * longest * headSize;
        for (int b = 0; b < sessions.Count; b++)
        {
            sessions[b].CopyCacheRowsTo(index, target.Slice(b * slot, slot), longest);
            gathered += (long)sessions[b].PastLength * heads * headSize * sizeof(float);
        }
        return padded;
    }

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }
}
