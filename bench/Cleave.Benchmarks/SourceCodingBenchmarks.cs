using System.Buffers;
using BenchmarkDotNet.Attributes;
using Cleave.Codecs;

namespace Cleave.Benchmarks;

/// <summary>
/// Issue 18's speed check for the training-free source-coding stages of rans-ifc (<c>rdo=</c>, <c>gains=</c>) at the
/// 32x28x28 size of MobileNetV2's expanded_conv_5/add, beside <c>quant:bits=8</c> in the same run: whole-frame encode
/// (RDO context pass + the plain layouts, smallest kept) and decode into a caller buffer, one thread, on smooth
/// synthetic maps so the context layout is the one sent. The gains are the ones `cleave calibrate` measured at that cut
/// (docs/codecs.md). Run: dotnet run -c Release -- --filter '*SourceCoding*'
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
[MemoryDiagnoser]
public class SourceCodingBenchmarks
{
    private static readonly TensorShape Shape = new(1, 32, 28, 28);
    private float[] _values = [];
    private float[] _decoded = [];
    private byte[] _frame = [];
    private FeatureCodec _codec = RawCodec.Instance;
    private readonly ArrayBufferWriter<byte> _writer = new(1 << 20);

    [Params("quant:bits=8", "rans-ifc:bits=3,levels=6,clip=3,ctx=2d", "rans-ifc:bits=3,levels=6,clip=3,ctx=2d,rdo=0.1",
        "rans-ifc:bits=3,levels=6,clip=3,ctx=2d,rdo=0.1,gains=74877c767c7885847c827e7c808988818a758b807c8c7e837c7c83807b828679")]
    public string Spec { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _values = SmoothFeatureMaps.Create(32, 28, 28);
        _decoded = new float[Shape.ElementCount];
        _codec = FeatureCodecs.Create(Spec);
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
