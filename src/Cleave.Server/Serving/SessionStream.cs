using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cleave.Runtime.Serving;

/// <summary>
/// One ONNX Runtime session with its inputs and outputs bound once: a pinned input buffer of <see cref="MaxBatch"/>
/// sample slots and an output buffer of as many, wrapped in <see cref="OrtValue"/>s made once per batch size, so a run
/// allocates nothing in proportion to the tensors (requests are decoded into a slot, answers read from a slot).
/// Used by one thread at a time (one batcher worker, or the calibration).
/// </summary>
internal sealed class SessionStream : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly long[] _sampleShape;
    private readonly long[] _outputShape;
    private readonly float[] _input;
    private readonly float[] _output;
    // Index b-1: the values covering the first b slots (batchable model), or slot b-1 alone (a model fixed at batch 1).
    private readonly OrtValue[]?[] _inputValues;
    private readonly OrtValue[]?[] _outputValues;

    internal SessionStream(byte[] model, string inputName, long[] sampleShape, bool batchable, int threads, int maxBatch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        if (threads > 0) options.IntraOpNumThreads = threads;
        // Idle intra-op threads sleep instead of spinning: on a server the CPU they would burn belongs to the
        // request threads (decoding, gRPC) and the other streams, and CPU seconds per request stay honest.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        try { _session = new InferenceSession(model, options); }
        catch (OnnxRuntimeException e) { throw new InvalidOperationException($"ONNX Runtime cannot load the model: {e.Message}", e); }
        try
        {
            _inputNames = [inputName];
            _outputNames = [_session.OutputMetadata.Keys.First()];
            _sampleShape = sampleShape;
            Batchable = batchable;
            MaxBatch = maxBatch;
            Threads = threads;
            SampleElements = 1;
            foreach (long d in sampleShape) SampleElements = checked(SampleElements * (int)d);
            _outputShape = ProbeOutputShape();
            OutputElements = 1;
            foreach (long d in _outputShape) OutputElements = checked(OutputElements * (int)d);
            _input = GC.AllocateArray<float>(checked(maxBatch * SampleElements), pinned: true);
            _output = GC.AllocateArray<float>(checked(maxBatch * OutputElements), pinned: true);
            _inputValues = new OrtValue[]?[maxBatch];
            _outputValues = new OrtValue[]?[maxBatch];
        }
        catch
        {
            _session.Dispose();
            _runOptions.Dispose();
            throw;
        }
    }

    public int MaxBatch { get; }
    public int Threads { get; }
    public bool Batchable { get; }
    public int SampleElements { get; }

    /// <summary>Output values per sample (the batch dimension counted as 1).</summary>
    public int OutputElements { get; }

    /// <summary>Where sample <paramref name="slot"/> of the next run goes.</summary>
    public Span<float> InputSlot(int slot) => _input.AsSpan(checked(slot * SampleElements), SampleElements);

    /// <summary>Sample <paramref name="slot"/>'s output of the last run (valid until the next run).</summary>
    public ReadOnlySpan<float> OutputSlot(int slot) => _output.AsSpan(checked(slot * OutputElements), OutputElements);

    /// <summary>Runs the model on the first <paramref name="count"/> input slots, filling as many output slots.</summary>
    public void Run(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxBatch);
        if (Batchable) RunBound(count - 1, count);
        else for (int slot = 0; slot < count; slot++) RunBound(slot, 1);
    }

    private void RunBound(int index, int batch)
    {
        int firstSlot = Batchable ? 0 : index;
        var inputs = _inputValues[index] ??= [Bind(_input, firstSlot * SampleElements, batch, SampleElements, _sampleShape)];
        var outputs = _outputValues[index] ??= [Bind(_output, firstSlot * OutputElements, batch, OutputElements, _outputShape)];
        _session.Run(_runOptions, _inputNames, inputs, _outputNames, outputs);
    }

    private static OrtValue Bind(float[] buffer, int offset, int batch, int perSample, long[] sampleShape)
    {
        var shape = (long[])sampleShape.Clone();
        shape[0] = batch;
        return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffer.AsMemory(offset, batch * perSample), shape);
    }

    /// <summary>
    /// Runs one zero sample the allocating way to learn the output's shape at batch 1 and its type (and to warm the
    /// session up): the pre-bound outputs must have exactly the shape the model computes.
    /// </summary>
    private long[] ProbeOutputShape()
    {
        using var value = OrtValue.CreateTensorValueFromMemory(new float[SampleElements], (long[])_sampleShape.Clone());
        using var outputs = _session.Run(_runOptions, _inputNames, [value], _outputNames);
        var info = outputs[0].GetTensorTypeAndShape();
        if (info.ElementDataType != TensorElementType.Float)
            throw new NotSupportedException($"the model's output is {info.ElementDataType}; only float outputs are served");
        long[] shape = info.Shape;
        if (shape.Length == 0 || shape[0] != 1)
            throw new NotSupportedException($"the model's output [{string.Join(",", shape)}] has no batch dimension of 1 at batch 1");
        return shape;
    }

    public void Dispose()
    {
        foreach (var values in _inputValues) if (values is not null) foreach (var v in values) v.Dispose();
        foreach (var values in _outputValues) if (values is not null) foreach (var v in values) v.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
