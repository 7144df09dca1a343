using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cleave.Models.Text;

/// <summary>
/// One sequence's KV cache on a <see cref="KvCacheModel"/>, run token after token: each run's presents become the next
/// run's pasts, kept as native <see cref="OrtValue"/>s so the cache is never copied. Either owns its model (the
/// path/bytes constructors) or shares one with other sessions (<see cref="KvCacheSession(KvCacheModel)"/>).
/// </summary>
public sealed class KvCacheSession : IDisposable
{
    private readonly KvCacheModel _model;
    private readonly bool _ownsModel;
    private OrtValue[] _past;

    public KvCacheSession(string modelPath, SessionOptions? options = null) : this(new KvCacheModel(modelPath, options), ownsModel: true)
    {
    }

    public KvCacheSession(byte[] model, SessionOptions? options = null) : this(new KvCacheModel(model, options), ownsModel: true)
    {
    }

    /// <summary>A cache on a shared model, which this session does not dispose.</summary>
    public KvCacheSession(KvCacheModel model) : this(model, ownsModel: false)
    {
    }

    private KvCacheSession(KvCacheModel model, bool ownsModel)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _ownsModel = ownsModel;
        _past = model.CreateEmptyPast();
    }

    public KvCacheModel Model => _model;
    public string InputName => _model.InputName;
    public string OutputName => _model.OutputName;

    /// <summary>True when the primary input is token ids (int64 [1,T]); else it is a float hidden state [1,T,width].</summary>
    public bool TakesTokens => _model.TakesTokens;
    public int InputWidth => _model.InputWidth;
    public int OutputWidth => _model.OutputWidth;
    public int CacheLayers => _model.CacheLayers;

    /// <summary>Tokens already in the cache (the position of the next token).</summary>
    public int PastLength { get; private set; }

    /// <summary>Bytes the cache holds now.</summary>
    public long CacheBytes => PastLength * _model.CacheBytesPerToken;

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

    /// <summary>The cache tensors [1, heads, P, head_size] in <see cref="KvCacheModel.PastNames"/> order (read-only use).</summary>
    internal OrtValue[] Past => _past;

    /// <summary>
    /// Appends one token: row <paramref name="row"/> of each [B, heads, 1, head_size] tensor in <paramref name="newRows"/>
    /// (in past order) goes after this cache's P tokens, as a batched decode step returns them.
    /// </summary>
    internal void AppendRow(IReadOnlyList<OrtValue> newRows, int row)
    {
        var next = new OrtValue[_past.Length];
        try
        {
            for (int i = 0; i < _past.Length; i++)
            {
                var (heads, headSize) = _model.PastGeometry(i);
                int p = PastLength;
                next[i] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, [1, heads, p + 1, headSize]);
                var target = next[i].GetTensorMutableDataAsSpan<float>();
                var old = _past[i].GetTensorDataAsSpan<float>();
                var added = newRows[i].GetTensorDataAsSpan<float>().Slice(row * heads * headSize, heads * headSize);
                for (int h = 0; h < heads; h++)
                {
                    old.Slice(h * p * headSize, p * headSize).CopyTo(target.Slice(h * (p + 1) * headSize));
                    added.Slice(h * headSize, headSize).CopyTo(target.Slice((h * (p + 1) + p) * headSize));
                }
            }
        }
        catch
        {
            foreach (var value in next) value?.Dispose();
            throw;
        }
        DisposePast();
        _past = next;
        PastLength++;
    }

    /// <summary>Forgets the cache: the next run starts at position 0.</summary>
    public void Reset()
    {
        DisposePast();
        _past = _model.CreateEmptyPast();
        PastLength = 0;
    }

    private float[] RunValue(OrtValue input, int tokens)
    {
        var (result, present) = _model.Run(input, _past);
        DisposePast();
        _past = present;
        PastLength += tokens;
        return result;
    }

    private void DisposePast()
    {
        foreach (var value in _past) value.Dispose();
    }

    public void Dispose()
    {
        DisposePast();
        _past = [];
        if (_ownsModel) _model.Dispose();
    }
}
