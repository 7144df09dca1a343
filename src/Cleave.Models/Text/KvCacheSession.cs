using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cleave.Models.Text;

/// <summary>
/// One sequence's KV cache on a <see cref="KvCacheModel"/>, run token after token. On a fixed-capacity stage (the split
/// halves) the caches are allocated once for the model's whole context and bound to every run as they are; a run
/// writes only its new rows into them, and a single-token step runs on input and output buffers bound once, so a step
/// costs the same at position 20 and at position 400 (<see cref="LastRunCopiedBytes"/> counts it). On a growing-form
/// stage (the full model.onnx) each run's presents become the next run's pasts, kept as native <see cref="OrtValue"/>s.
/// Either owns its model (the path/bytes constructors) or shares one with other sessions (<see cref="KvCacheSession(KvCacheModel)"/>).
/// </summary>
public sealed class KvCacheSession : IDisposable
{
    private readonly KvCacheModel _model;
    private readonly bool _ownsModel;
    private OrtValue[] _past = [];               // the growing form
    private readonly FixedKvCache? _fixed;       // the fixed-capacity form
    private readonly FixedRun? _step;            // its single-token run, bound once
    private long _copiedBytes;

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
        try
        {
            if (model.HasFixedCapacity)
            {
                _fixed = new FixedKvCache(model);
                _step = new FixedRun(model, _fixed, tokens: 1);
            }
            else
            {
                _past = model.CreateEmptyPast();
            }
        }
        catch
        {
            Dispose();
            throw;
        }
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

    /// <summary>Tokens the cache can hold: the model's context for a fixed-capacity stage, else <see cref="int.MaxValue"/>.</summary>
    public int Capacity => _model.Capacity;

    /// <summary>Bytes the cache holds now.</summary>
    public long CacheBytes => PastLength * _model.CacheBytesPerToken;

    /// <summary>
    /// Bytes the last run (or appended row) copied: its input into the bound buffer, the cache rows, and its output out of
    /// the bound buffer. On a fixed-capacity stage the cache rows are only the new ones, so the count does not depend on
    /// the position; on a growing-form stage it includes the whole cache that ONNX Runtime concatenates into the presents.
    /// </summary>
    public long LastRunCopiedBytes => Interlocked.Read(ref _copiedBytes);

    /// <summary>Runs token ids through the stage; returns its output for each token, [T * OutputWidth].</summary>
    public float[] Run(ReadOnlySpan<int> tokens)
    {
        if (!TakesTokens) throw new InvalidOperationException($"this stage takes a hidden state ({InputName}), not token ids");
        if (tokens.IsEmpty) throw new ArgumentException("at least one token is needed", nameof(tokens));
        CheckRoom(tokens.Length);
        if (_fixed is not null)
        {
            if (tokens.Length == 1) return RunFixed(_step!, tokens, default);
            using var run = new FixedRun(_model, _fixed, tokens.Length);
            return RunFixed(run, tokens, default);
        }
        var ids = new long[tokens.Length];
        for (int i = 0; i < ids.Length; i++) ids[i] = tokens[i];
        using var input = OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]);
        return RunGrowing(input, tokens.Length, (long)ids.Length * sizeof(long));
    }

    /// <summary>Runs a hidden state [T * InputWidth] through the stage; returns [T * OutputWidth].</summary>
    public float[] Run(ReadOnlySpan<float> hidden)
    {
        if (TakesTokens) throw new InvalidOperationException($"this stage takes token ids ({InputName}), not a hidden state");
        if (hidden.IsEmpty || hidden.Length % InputWidth != 0)
            throw new ArgumentException($"the hidden state must hold a positive multiple of {InputWidth} values, not {hidden.Length}", nameof(hidden));
        int tokens = hidden.Length / InputWidth;
        CheckRoom(tokens);
        if (_fixed is not null)
        {
            if (tokens == 1) return RunFixed(_step!, default, hidden);
            using var run = new FixedRun(_model, _fixed, tokens);
            return RunFixed(run, default, hidden);
        }
        var copy = hidden.ToArray();
        using var input = OrtValue.CreateTensorValueFromMemory(copy, [1, tokens, InputWidth]);
        return RunGrowing(input, tokens, (long)copy.Length * sizeof(float));
    }

    /// <summary>Copies this cache's first <see cref="PastLength"/> rows of tensor <paramref name="index"/> into a batched graph's padded [heads, stride, head_size] slot.</summary>
    internal void CopyCacheRowsTo(int index, Span<float> target, int stride) => _fixed!.CopyRowsTo(index, PastLength, target, stride);

    /// <summary>
    /// Appends one token: row <paramref name="row"/> of each [B, heads, 1, head_size] tensor in <paramref name="newRows"/>
    /// (in past order) is written after this cache's P tokens, as a batched decode step returns them.
    /// </summary>
    internal void AppendRow(IReadOnlyList<OrtValue> newRows, int row)
    {
        if (_fixed is null) throw new InvalidOperationException("rows are appended to fixed-capacity caches only");
        CheckRoom(1);
        long copied = 0;
        for (int i = 0; i < newRows.Count; i++)
        {
            var (heads, headSize, _) = _model.PastGeometry(i);
            copied += _fixed.WriteRows(i, newRows[i].GetTensorDataAsSpan<float>().Slice(row * heads * headSize, heads * headSize), 1, PastLength);
        }
        Interlocked.Exchange(ref _copiedBytes, copied);
        PastLength++;
    }

    /// <summary>Forgets the cache: the next run starts at position 0.</summary>
    public void Reset()
    {
        if (_fixed is null)
        {
            DisposePast();
            _past = _model.CreateEmptyPast();
        }
        PastLength = 0;
    }

    private void CheckRoom(int tokens)
    {
        if (tokens > Capacity - PastLength)
            throw new ArgumentException($"{PastLength} cached + {tokens} new tokens exceed the cache's {Capacity} positions", nameof(tokens));
    }

    private float[] RunFixed(FixedRun run, ReadOnlySpan<int> tokens, ReadOnlySpan<float> hidden)
    {
        long copied = TakesTokens ? run.SetTokens(tokens) : run.SetHidden(hidden);
        run.Run(PastLength);
        for (int i = 0; i < _fixed!.Tensors.Length; i++) copied += _fixed.WriteRows(i, run.NewRows(i), run.Tokens, PastLength);
        float[] result = run.Output.ToArray();
        copied += (long)result.Length * sizeof(float);
        Interlocked.Exchange(ref _copiedBytes, copied);
        PastLength += run.Tokens;
        return result;
    }

    private float[] RunGrowing(OrtValue input, int tokens, long inputBytes)
    {
        var (result, present) = _model.Run(input, _past);
        DisposePast();
        _past = present;
        Interlocked.Exchange(ref _copiedBytes, inputBytes + (PastLength + tokens) * _model.CacheBytesPerToken + (long)result.Length * sizeof(float));
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
        _step?.Dispose();
        _fixed?.Dispose();
        if (_ownsModel) _model.Dispose();
    }
}
