using Cleave.Models.Onnx;
using Cleave.Models.Profiling;

namespace Cleave.Runtime.Serving;

/// <summary>
/// What the server runs for one mode: <see cref="Prepare"/> turns a request's payload into one sample of the model's
/// input (in the request's own task, so bad payloads never reach the batcher), and <see cref="RunBatch"/> runs the
/// model once on samples concatenated along the batch dimension.
/// </summary>
public abstract class InferenceBackend : IDisposable
{
    private readonly OrtModelRunner _runner;
    private readonly string _inputName;
    private readonly string _outputName;
    private readonly long[] _sampleShape;

    protected InferenceBackend(byte[] model, string inputName, long[] sampleShape, bool batchable, int threads)
    {
        _runner = new OrtModelRunner(model, threads);
        _inputName = inputName;
        _outputName = _runner.OutputNames[0];
        _sampleShape = sampleShape;
        SampleElements = 1;
        foreach (long d in sampleShape) SampleElements *= checked((int)d);
        Batchable = batchable;
    }

    /// <summary>"split" or "full": the mode clients name in their Hello.</summary>
    public abstract string Mode { get; }

    /// <summary>Identifies what is served: the split manifest hash (split mode) or the model file's SHA-256 (full mode).</summary>
    public abstract string ModelHash { get; }

    /// <summary>False when the model's batch dimension is fixed at 1: batches are then run one sample at a time.</summary>
    public bool Batchable { get; }

    /// <summary>Elements in one sample of the model input (the batch dimension counted as 1).</summary>
    public int SampleElements { get; }

    /// <summary>One sample's input shape, batch dimension 1 included.</summary>
    public IReadOnlyList<long> SampleShape => _sampleShape;

    /// <summary>
    /// Decodes and checks one payload; throws <see cref="SplitInferenceException"/> (malformed, wrong shape) for bad
    /// input. Runs concurrently on many request tasks, so implementations must be thread-safe.
    /// </summary>
    public abstract float[] Prepare(ReadOnlyMemory<byte> payload);

    /// <summary>
    /// Runs the model on <paramref name="samples"/> (each <see cref="SampleElements"/> long) and returns each sample's
    /// output. Called by one batcher thread at a time.
    /// </summary>
    public float[][] RunBatch(IReadOnlyList<float[]> samples)
    {
        if (!Batchable && samples.Count > 1)
        {
            var each = new float[samples.Count][];
            for (int i = 0; i < samples.Count; i++) each[i] = RunBatch([samples[i]]);
            return each;
        }
        var input = new float[samples.Count * SampleElements];
        for (int i = 0; i < samples.Count; i++) samples[i].CopyTo(input, i * SampleElements);
        var shape = (long[])_sampleShape.Clone();
        shape[0] = samples.Count;
        var output = _runner.Run(new Dictionary<string, HostTensor> { [_inputName] = new(OnnxElementType.Float, shape, input) }, [_outputName])[_outputName];
        var values = output.Data as float[] ?? throw new NotSupportedException($"the model's output is {output}, only float outputs are served");
        int per = values.Length / samples.Count;
        var results = new float[samples.Count][];
        for (int i = 0; i < samples.Count; i++) results[i] = values.AsSpan(i * per, per).ToArray();
        return results;
    }

    private float[] RunBatch(float[][] single) => RunBatch((IReadOnlyList<float[]>)single)[0];

    public void Dispose()
    {
        _runner.Dispose();
        GC.SuppressFinalize(this);
    }
}
