using Microsoft.ML.OnnxRuntime;

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
