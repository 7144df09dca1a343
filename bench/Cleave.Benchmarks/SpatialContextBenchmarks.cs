using System.Buffers;
using BenchmarkDotNet.Attributes;
using Cleave.Codecs;

namespace Cleave.Benchmarks;

/// <summary>
/// Whole-frame encode and decode with rans-ifc's spatial-context layout (<c>ctx=2d</c>) beside the same setting
/// without it, on smooth feature maps (low-frequency waves plus noise per channel, so the context layout is the one
/// chosen and decoded): the demo's 32x28x28 operating point and the 64x56x56 size of the codec targets.
/// The ctx=2d encoder codes both layouts and keeps the smaller, so its encode time includes the plain one.
/// Run: dotnet run -c Release -- --filter '*SpatialContext*'
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
[MemoryDiagnoser]
public class SpatialContextBenchmarks
{
    private TensorShape _shape = new(1);
    private float[] _values = [];
    private float[] _decoded = [];
    private byte[] _frame = [];
    private FeatureCodec _codec = RawCodec.Instance;
    private readonly ArrayBufferWriter<byte> _writer = new(1 << 20);

    [Params("rans-ifc:bits=3,levels=6,clip=3", "rans-ifc:bits=3,levels=6,clip=3,ctx=2d", "rans-ifc:bits=8", "rans-ifc:bits=8,ctx=2d")]
    public string Spec { get; set; } = "";

    [Params("32x28x28", "64x56x56")]
    public string Size { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var dims = Size.Split('x').Select(int.Parse).ToArray();
        _shape = new TensorShape(1, dims[0], dims[1], dims[2]);
        _values = SmoothFeatureMaps.Create(dims[0], dims[1], dims[2]);
        _decoded = new float[_shape.ElementCount];
        _codec = FeatureCodecs.Create(Spec);
        _frame = _codec.Encode(_values, _shape);
    }

    [Benchmark]
    public int Encode()
    {
        _writer.ResetWrittenCount();
        _codec.Encode(_values, _shape, _writer);
        return _writer.WrittenCount;
    }

    [Benchmark]
    public int Decode() => FeatureFrame.Decode(_frame, _decoded).ElementCount;
}
