using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cleave.Runtime.Serving;

/// <summary>
/// What the server runs for one mode: <see cref="Prepare(ReadOnlyMemory{byte}, Span{float})"/> turns a request's payload
/// into one sample of the model's input, written into a buffer the caller owns (in the request's own task, so bad
/// payloads never reach the batcher); <see cref="CreateStream"/> makes the sessions of the default task the batcher runs
/// batches on (one per stream of the <see cref="ExecutionPlan"/>), and <see cref="RunBatch(IReadOnlyList{float[]}, int)"/>
/// runs one of the mode's task models (<see cref="Tasks"/>, the default first) on samples concatenated along the batch
/// dimension: several tasks read the same prepared input.
/// </summary>
public abstract class InferenceBackend : IDisposable
{
    private readonly RunOptions _runOptions = new();
    private readonly byte[] _model;
    private readonly string _inputName;
    private readonly long[] _sampleShape;
    private readonly int _threads;
    private readonly List<TaskModel> _tasks = [];
    private readonly Lock _convenienceLock = new();
    private SessionStream? _convenience; // made on first use: a server's sessions are its batcher's streams
    private bool _disposed;

    protected InferenceBackend(byte[] model, string inputName, long[] sampleShape, bool batchable, int threads)
        : this([(Cleave.Models.Splitting.SplitManifest.DefaultTaskName, Cleave.Models.Splitting.SplitTask.ClassesKind, model)], inputName, sampleShape, batchable, threads)
    {
    }

    protected InferenceBackend(IReadOnlyList<(string Name, string Kind, byte[] Model)> tasks, string inputName, long[] sampleShape, bool batchable, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfZero(tasks.Count);
        _model = tasks[0].Model; // the default task runs on the batcher's streams, made from these bytes
        _inputName = inputName;
        _sampleShape = sampleShape;
        _threads = threads;
        SampleElements = 1;
        foreach (long d in sampleShape) SampleElements *= checked((int)d);
        Batchable = batchable;
        try
        {
            foreach (var (name, kind, bytes) in tasks) _tasks.Add(LoadTask(name, kind, bytes, threads));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private TaskModel LoadTask(string name, string kind, byte[] model, int threads)
    {
        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        if (threads > 0) options.IntraOpNumThreads = threads;
        // Idle intra-op threads sleep instead of spinning: on a server the CPU they would burn belongs to the
        // request threads (decoding, gRPC), and CPU seconds per request stay honest.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        InferenceSession session;
        try { session = new InferenceSession(model, options); }
        catch (OnnxRuntimeException e) { throw new InvalidOperationException($"ONNX Runtime cannot load the model of task '{name}': {e.Message}", e); }
        if (!session.InputMetadata.ContainsKey(_inputName))
        {
            session.Dispose();
            throw new InvalidOperationException($"the model of task '{name}' has no input '{_inputName}': every task reads the same input");
        }
        var (outputName, output) = session.OutputMetadata.First();
        long per = 1;
        foreach (int d in output.Dimensions.Skip(1)) per = d > 0 && per > 0 ? per * d : 0;
        return new TaskModel(name, kind, session, outputName, per is > 0 and <= int.MaxValue ? (int)per : 0);
    }

    /// <summary>The models this mode runs on a prepared input, the default task first.</summary>
    public IReadOnlyList<TaskModel> Tasks => _tasks;

    /// <summary>The index of the task called <paramref name="name"/> in <see cref="Tasks"/>, or -1.</summary>
    public int TaskIndex(string name)
    {
        for (int i = 0; i < _tasks.Count; i++)
            if (string.Equals(_tasks[i].Name, name, StringComparison.Ordinal)) return i;
        return -1;
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
    internal SessionStream CreateStream(int threads, int maxBatch) => new(_model, _inputName, _sampleShape, Batchable, threads, maxBatch);

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
    public float[][] RunBatch(IReadOnlyList<float[]> samples) => RunBatch(samples, 0);

    /// <summary>
    /// Runs task <paramref name="task"/> (an index into <see cref="Tasks"/>) like <see cref="RunBatch(IReadOnlyList{float[]})"/>:
    /// the default task on the convenience stream, the others on their own sessions (how the batcher runs them too).
    /// </summary>
    public float[][] RunBatch(IReadOnlyList<float[]> samples, int task)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentOutOfRangeException.ThrowIfNegative(task);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(task, _tasks.Count);
        if (task > 0) return RunOnTaskSession(samples, _tasks[task]);
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

    /// <summary>Runs <paramref name="model"/>'s own session the allocating way (each sample <see cref="SampleElements"/> long).</summary>
    private float[][] RunOnTaskSession(IReadOnlyList<float[]> samples, TaskModel model)
    {
        if (samples.Count == 0) return [];
        if (!Batchable && samples.Count > 1)
        {
            var each = new float[samples.Count][];
            for (int i = 0; i < samples.Count; i++) each[i] = RunOnTaskSession([samples[i]], model)[0];
            return each;
        }
        var input = new float[checked(samples.Count * SampleElements)];
        for (int i = 0; i < samples.Count; i++) samples[i].AsSpan(0, SampleElements).CopyTo(input.AsSpan(i * SampleElements));
        var shape = (long[])_sampleShape.Clone();
        shape[0] = samples.Count;
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var outputs = model.Session.Run(_runOptions, [_inputName], [value], [model.OutputName]);
        var output = outputs[0];
        if (output.GetTensorTypeAndShape().ElementDataType != TensorElementType.Float)
            throw new NotSupportedException($"the model's output is {output.GetTensorTypeAndShape().ElementDataType}; only float outputs are served");
        var values = output.GetTensorDataAsSpan<float>();
        int per = values.Length / samples.Count;
        var results = new float[samples.Count][];
        for (int i = 0; i < samples.Count; i++) results[i] = values.Slice(i * per, per).ToArray();
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
        _runOptions.Dispose();
        foreach (var task in _tasks) task.Dispose();
        GC.SuppressFinalize(this);
    }
}
