using BenchmarkDotNet.Attributes;
using Cleave.Codecs;
using Cleave.Models.Preprocessing;
using Cleave.Runtime.Serving;
using Microsoft.ML.OnnxRuntime;

namespace Cleave.Benchmarks;

/// <summary>
/// What one classification request costs the server between the received frame and the top-5 answer, and above all
/// what it allocates (MemoryDiagnoser): <see cref="CopyingPath"/> is the request path before issue 18, rebuilt here
/// from public APIs as the reference (decode into a new array, concatenate the batch into another, let ONNX Runtime
/// allocate the output, copy each sample's output out); <see cref="PooledBoundPath"/> is the server's path now (decode
/// into a pooled buffer, copy into the session's bound input, run with bound outputs, top-5 from the output slot).
/// Both at batch 1 with one intra-op thread, on the split folder named by CLEAVE_SPLIT (default /tmp/perf-server/split5:
/// `cleave split mnv2.onnx --at MobilenetV2/expanded_conv_5/add -o /tmp/perf-server/split5`).
/// Run: dotnet run -c Release --project bench/Cleave.Benchmarks -- --filter '*ServerRequestPath*'
/// </summary>
[SimpleJob(warmupCount: 3, iterationCount: 10)]
[MemoryDiagnoser]
public class ServerRequestPathBenchmarks
{
    private SplitTailBackend? _backend;
    private SessionStream? _stream;
    private InferenceSession? _session;
    private readonly RunOptions _runOptions = new();
    private byte[] _frame = [];
    private long[] _shape = [];
    private DecodeLimits _limits = DecodeLimits.Default;

    [GlobalSetup]
    public void Setup()
    {
        string split = Environment.GetEnvironmentVariable("CLEAVE_SPLIT") ?? "/tmp/perf-server/split5";
        _backend = SplitTailBackend.Load(split, threads: 1);
        _stream = _backend.CreateStream(threads: 1, maxBatch: 1);
        _shape = [.. _backend.SampleShape];
        _limits = new DecodeLimits { MaxDecodedBytes = 4L * _backend.SampleElements };
        var values = SyntheticTensors.ReluLike(_backend.SampleElements, seed: 1);
        _frame = FeatureCodecs.Create("quant:bits=8,entropy=rans").Encode(values, new TensorShape([.. _shape.Select(d => (int)d)]));
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        _session = new InferenceSession(_backend.Split.TailPath, options);
    }

    [Benchmark(Baseline = true)]
    public int CopyingPath()
    {
        float[] decoded = FeatureFrame.Decode(_frame, out _, _limits);
        var input = new float[decoded.Length];
        decoded.CopyTo(input, 0);
        using var value = OrtValue.CreateTensorValueFromMemory(input, (long[])_shape.Clone());
        using var outputs = _session!.Run(_runOptions, [_session.InputMetadata.Keys.First()], [value], [_session.OutputMetadata.Keys.First()]);
        float[] output = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        return ImageNetSample.TopK(output, 5)[0];
    }

    [Benchmark]
    public int PooledBoundPath()
    {
        var item = new BatchItem(_backend!.SampleElements, CancellationToken.None);
        _backend.Prepare(_frame, item.Input);
        item.Input.CopyTo(_stream!.InputSlot(0));
        item.ReleaseInput();
        _stream.Run(1);
        return ImageNetSample.TopK(_stream.OutputSlot(0), 5)[0];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stream?.Dispose();
        _backend?.Dispose();
        _session?.Dispose();
        _runOptions.Dispose();
    }
}
