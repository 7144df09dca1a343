namespace Cleave.Runtime.Serving;

/// <summary>
/// What the server runs for one mode: <see cref="Prepare(ReadOnlyMemory{byte}, Span{float})"/> turns a request's payload
/// into one sample of the model's input, written into a buffer the caller owns (in the request's own task, so bad
/// payloads never reach the batcher), and <see cref="CreateStream"/> makes the sessions the batcher runs batches on
/// (one per stream of the <see cref="ExecutionPlan"/>).
/// </summary>
public abstract class InferenceBackend : IDisposable
{
    private readonly byte[] _model;
    private readonly string _inputName;
    private readonly long[] _sampleShape;
    private readonly int _threads;
    private readonly Lock _convenienceLock = new();
    private SessionStream? _convenience; // made on first use: a server's sessions are its batcher's streams
    private bool _disposed;

    protected InferenceBackend(byte[] model, string inputName, long[] sampleShape, bool batchable, int threads)
    {
        _model = model;
        _inputName = inputName;
        _sampleShape = sampleShape;
        _threads = threads;
        SampleElements = 1;
        foreach (long d in sampleShape) SampleElements *= checked((int)d);
        Batchable = batchable;
    }

    /// <summary>"split" or "full": the mode clients name in their Hello.</summary>
    public abstract string Mode { get; }

    /// <summary>Identifies what is served: the split manifest hash (split mode) or the model file's SHA-256 (full mode).</summary>
    public abstract string ModelHash { get; }

    /// <summary>Largest payload this mode can need (split mode: the cut tensor's largest frame); no bound of its own by default.</summary>
    public virtual long MaxPayloadBytes => long.MaxValue;

    /// <summary>False when the model's batch dimension is fixed at 1: batches are then run one sample at a time.</summary>
    public bool Batchable { get; }

    /// <summary>Elements in one sample of the model input (the batch dimension counted as 1).</summary>
    public int SampleElements { get; }

    /// <summary>One sample's input shape, batch dimension 1 included.</summary>
    public IReadOnlyList<long> SampleShape => _sampleShape;

    /// <summary>A new session over the model with inputs and outputs bound for batches of up to <paramref name="maxBatch"/>.</summary>
    public SessionStream CreateStream(int threads, int maxBatch) => new(_model, _inputName, _sampleShape, Batchable, threads, maxBatch);

    /// <summary>
    /// Decodes and checks one payload into <paramref name="destination"/> (<see cref="SampleElements"/> long); throws
    /// <see cref="SplitInferenceException"/> (malformed, wrong shape) for bad input. Runs concurrently on many request
    /// tasks, so implementations must be thread-safe.
    /// </summary>
    public abstract void Prepare(ReadOnlyMemory<byte> payload, Span<float> destination);

    /// <summary><see cref="Prepare(ReadOnlyMemory{byte}, Span{float})"/> into a new array (tools and tests; the server decodes into pooled buffers).</summary>
    public float[] Prepare(ReadOnlyMemory<byte> payload)
    {
        var values = new float[SampleElements];
        Prepare(payload, values);
        return values;
    }

    /// <summary>
    /// Runs the model on <paramref name="samples"/> (each <see cref="SampleElements"/> long) and returns each sample's
    /// output as a new array: a convenience for tools and tests (the <c>client --check</c> path, sweeps). Runs in chunks
    /// of at most 64 samples on one session of its own, one caller at a time.
    /// </summary>
    public float[][] RunBatch(IReadOnlyList<float[]> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var results = new float[samples.Count][];
        lock (_convenienceLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int wanted = Math.Min(Math.Max(samples.Count, 1), 64);
            if (_convenience is null || _convenience.MaxBatch < wanted)
            {
                var larger = CreateStream(_threads, wanted);
                _convenience?.Dispose();
                _convenience = larger;
            }
            for (int start = 0; start < samples.Count; start += _convenience.MaxBatch)
            {
                int count = Math.Min(_convenience.MaxBatch, samples.Count - start);
                for (int i = 0; i < count; i++) samples[start + i].AsSpan(0, SampleElements).CopyTo(_convenience.InputSlot(i));
                _convenience.Run(count);
                for (int i = 0; i < count; i++) results[start + i] = _convenience.OutputSlot(i).ToArray();
            }
        }
        return results;
    }

    public void Dispose()
    {
        lock (_convenienceLock)
        {
            _convenience?.Dispose();
            _convenience = null;
            _disposed = true;
        }
        GC.SuppressFinalize(this);
    }
}
