using Microsoft.ML.OnnxRuntime;

namespace Cleave.Models.Text;

/// <summary>
/// The bound inputs and outputs of a fixed-capacity stage's run of <see cref="Tokens"/> tokens: managed buffers pinned
/// under <see cref="OrtValue"/>s (input, position, primary output, each cache's new rows) plus the cache tensors
/// themselves. A session keeps one for single-token steps, so a step allocates nothing and binds nothing anew: it
/// writes the input and the position into the buffers and runs.
/// </summary>
internal sealed class FixedRun : IDisposable
{
    private readonly KvCacheModel _model;
    private readonly long[] _ids = [];
    private readonly float[] _hidden = [];
    private readonly long[] _position = new long[1];
    private readonly float[] _output;
    private readonly float[][] _newRows;
    private readonly List<OrtValue> _owned = [];
    private readonly OrtValue[] _inputs, _outputs;

    public FixedRun(KvCacheModel model, FixedKvCache cache, int tokens)
    {
        _model = model;
        Tokens = tokens;
        var caches = cache.Tensors;
        _inputs = new OrtValue[caches.Length + 2];
        _outputs = new OrtValue[caches.Length + 1];
        _output = new float[checked(tokens * model.OutputWidth)];
        _newRows = new float[caches.Length][];
        try
        {
            if (model.TakesTokens)
            {
                _ids = new long[tokens];
                _inputs[0] = Own(OrtValue.CreateTensorValueFromMemory(_ids, [1, tokens]));
            }
            else
            {
                _hidden = new float[checked(tokens * model.InputWidth)];
                _inputs[0] = Own(OrtValue.CreateTensorValueFromMemory(_hidden, [1, tokens, model.InputWidth]));
            }
            _inputs[1] = Own(OrtValue.CreateTensorValueFromMemory(_position, [1]));
            caches.CopyTo(_inputs, 2);
            _outputs[0] = Own(OrtValue.CreateTensorValueFromMemory(_output, [1, tokens, model.OutputWidth]));
            for (int i = 0; i < caches.Length; i++)
            {
                var (heads, headSize, _) = model.PastGeometry(i);
                _newRows[i] = new float[checked(heads * tokens * headSize)];
                _outputs[i + 1] = Own(OrtValue.CreateTensorValueFromMemory(_newRows[i], [1, heads, tokens, headSize]));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Tokens { get; }

    /// <summary>The last run's primary output, [Tokens * OutputWidth].</summary>
    public ReadOnlySpan<float> Output => _output;

    /// <summary>The last run's new rows of cache <paramref name="index"/>, [heads, Tokens, head_size].</summary>
    public ReadOnlySpan<float> NewRows(int index) => _newRows[index];

    /// <summary>Copies the token ids into the bound input; returns the bytes copied.</summary>
    public long SetTokens(ReadOnlySpan<int> tokens)
    {
        for (int i = 0; i < _ids.Length; i++) _ids[i] = tokens[i];
        return (long)_ids.Length * sizeof(long);
    }

    /// <summary>Copies the hidden state into the bound input; returns the bytes copied.</summary>
    public long SetHidden(ReadOnlySpan<float> hidden)
    {
        hidden.CopyTo(_hidden);
        return (long)hidden.Length * sizeof(float);
    }

    /// <summary>Runs with the cache's first <paramref name="position"/> rows valid.</summary>
    public void Run(int position)
    {
        _position[0] = position;
        _model.RunInto(_inputs, _outputs);
    }

    private OrtValue Own(OrtValue value)
    {
        _owned.Add(value);
        return value;
    }

    public void Dispose()
    {
        foreach (var value in _owned) value.Dispose();
        _owned.Clear();
    }
}
