using System.Buffers;
using BenchmarkDotNet.Attributes;
using Cleave.Codecs;
using Cleave.Codecs.Entropy;

namespace Cleave.Benchmarks;

/// <summary>
/// rANS speed per probability resolution 2^k (the decode tables grow with k), on the same 1M 8-bit symbols as
/// <see cref="RansBenchmarks"/>: one of the measurements behind RansCoder.DefaultScaleBits.
/// Run: dotnet run -c Release -- --filter '*RansScaleBits*'
/// </summary>
[SimpleJob(warmupCount: 2, iterationCount: 6)]
[MinColumn]
public class RansScaleBitsBenchmarks
{
    private byte[] _symbols = [];
    private byte[] _decoded = [];
    private byte[] _rans = [];
    private readonly ArrayBufferWriter<byte> _writer = new(4_000_000);

    [Params(10, 12, 13, 14, 15)]
    public int ScaleBits { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _symbols = RansBenchmarks.Quantize(SyntheticTensors.ReluLike(1_000_000, seed: 1), 8);
        _decoded = new byte[_symbols.Length];
        RansCoder.Encode(_symbols, 256, _writer, ScaleBits);
        _rans = _writer.WrittenSpan.ToArray();
    }

    [Benchmark]
    public int Encode()
    {
        _writer.ResetWrittenCount();
        RansCoder.Encode(_symbols, 256, _writer, ScaleBits);
        return _writer.WrittenCount;
    }

    [Benchmark]
    public int Decode() => RansCoder.Decode(_rans, _decoded);
}
