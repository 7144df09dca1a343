using System.Buffers;
using BenchmarkDotNet.Attributes;
using Cleave.Codecs;

namespace Cleave.Benchmarks;

/// <summary>
/// Whole-frame encode and decode of a 64x56x56 ReLU-like feature (SyntheticTensors.ReluLike) with rans-ifc beside the
/// dense quant+rANS baseline at the same bit width. <c>ncols=3136</c> forces the CSR layout with one row per channel
/// plane, which codes only about 2·nnz symbols (the auto choice may pick dense or N=1 on independent zeros).
/// Run: dotnet run -c Release -- --filter '*RansIfc*'
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
[MemoryDiagnoser]
public class RansIfcBenchmarks
{
    private static readonly TensorShape Shape = new(1, 64, 56, 56);
    private float[] _values = [];
    private float[] _decoded = [];
    private byte[] _frame = [];
    private FeatureCodec _codec = RawCodec.Instance;
    private readonly ArrayBufferWriter<byte> _writer = new(1 << 20);

    [Params("quant:bits=8,entropy=rans", "rans-ifc:bits=8", "rans-ifc:bits=8,ncols=3136")]
    public string Spec { get; set; } = "";

    [Params(0.5, 0.9)]
    public double ZeroFraction { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _codec = FeatureCodecs.Create(Spec);
        _values = SyntheticTensors.ReluLike(Shape.ElementCount, seed: 1, zeroFraction: ZeroFraction);
        _decoded = new float[Shape.ElementCount];
        _frame = _codec.Encode(_values, Shape);
    }

    [Benchmark]
    public int Encode()
    {
        _writer.ResetWrittenCount();
        _codec.Encode(_values, Shape, _writer);
        return _writer.WrittenCount;
    }

    [Benchmark]
    public int Decode() => FeatureFrame.Decode(_frame, _decoded).ElementCount;
}
