using System.Buffers;
using BenchmarkDotNet.Attributes;
using Cleave.Codecs;

namespace Cleave.Benchmarks;

/// <summary>
/// Whole-frame encode and decode (single thread) of one 64x56x56 float32 feature map (200,704 values, 784 KiB,
/// ReLU-like: half exact zeros, log-normal positives), slicer beside <c>quant:bits=8</c> in the same run.
/// Run: dotnet run -c Release -- --filter '*Slicer*'
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
[MemoryDiagnoser]
public class SlicerBenchmarks
{
    private static readonly TensorShape Shape = new(1, 64, 56, 56);
    private float[] _values = [];
    private float[] _decoded = [];
    private byte[] _frame = [];
    private FeatureCodec _codec = RawCodec.Instance;
    private readonly ArrayBufferWriter<byte> _writer = new(1 << 20);

    [Params("quant:bits=8", "slicer:keep=1,asym=1,blocks=8,delta=0.001", "slicer:keep=0.25,asym=1,blocks=8,delta=0.001",
        "slicer:keep=0.25,asym=0.5,blocks=4,delta=0.01",
        "slicer:keep=0.1,asym=1,blocks=1,delta=0", "slicer:target=snr:20,asym=1")]
    public string Spec { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _values = SyntheticTensors.ReluLike(Shape.ElementCount, seed: 1);
        _decoded = new float[Shape.ElementCount];
        _codec = FeatureCodecs.Create(Spec);
        _frame = _codec.Encode(_values, Shape);
    }

    [Benchmark(Description = "encode frame")]
    public int Encode()
    {
        _writer.ResetWrittenCount();
        _codec.Encode(_values, Shape, _writer);
        return _writer.WrittenCount;
    }

    [Benchmark(Description = "decode frame")]
    public TensorShape Decode() => FeatureFrame.Decode(_frame, _decoded);
}
