using System.Buffers;
using BenchmarkDotNet.Attributes;
using Cleave.Codecs;
using Cleave.Codecs.Entropy;

namespace Cleave.Benchmarks;

/// <summary>
/// rANS on one million 8-bit quantized ReLU-like activations, beside zstd level 1 on the same bytes and a plain copy
/// of the float32 tensor they came from (4 MB), so the numbers can be read against memory bandwidth.
/// Run: dotnet run -c Release -- --filter '*RansBenchmarks*'
/// </summary>
[SimpleJob(warmupCount: 3, iterationCount: 10)]
[MemoryDiagnoser]
[MinColumn, MaxColumn]
public class RansBenchmarks
{
    private const int Count = 1_000_000;
    private float[] _floats = [];
    private float[] _floatCopy = [];
    private byte[] _symbols = [];
    private byte[] _decoded = [];
    private byte[] _rans = [];
    private byte[] _zstd = [];
    private byte[] _zstdScratch = [];
    private byte[] _smallSymbols = [];
    private byte[] _smallRans = [];
    private readonly ArrayBufferWriter<byte> _writer = new(4 * Count);
    private readonly ZstdSharp.Compressor _compressor = new(1);
    private readonly ZstdSharp.Decompressor _decompressor = new();

    [GlobalSetup]
    public void Setup()
    {
        _floats = SyntheticTensors.ReluLike(Count, seed: 1);
        _floatCopy = new float[Count];
        _symbols = Quantize(_floats, 8);
        _decoded = new byte[Count];
        RansCoder.Encode(_symbols, 256, _writer);
        _rans = _writer.WrittenSpan.ToArray();
        _zstd = _compressor.Wrap(_symbols).ToArray();
        _zstdScratch = new byte[ZstdSharp.Compressor.GetCompressBound(Count)];
        // A 4096-element tensor (one LLM hidden state per token): table choice and one lane dominate here.
        _smallSymbols = Quantize(SyntheticTensors.ReluLike(4096, seed: 1), 8);
        _writer.ResetWrittenCount();
        RansCoder.Encode(_smallSymbols, 256, _writer);
        _smallRans = _writer.WrittenSpan.ToArray();
    }

    internal static byte[] Quantize(float[] values, int bits)
    {
        float max = 0;
        foreach (float v in values) max = Math.Max(max, v);
        int levels = (1 << bits) - 1;
        var symbols = new byte[values.Length];
        for (int i = 0; i < values.Length; i++) symbols[i] = (byte)Math.Round(values[i] / max * levels);
        return symbols;
    }

    [Benchmark]
    public int RansEncode()
    {
        _writer.ResetWrittenCount();
        RansCoder.Encode(_symbols, 256, _writer);
        return _writer.WrittenCount;
    }

    [Benchmark]
    public int RansDecode() => RansCoder.Decode(_rans, _decoded);

    [Benchmark]
    public int RansEncode4096()
    {
        _writer.ResetWrittenCount();
        RansCoder.Encode(_smallSymbols, 256, _writer);
        return _writer.WrittenCount;
    }

    [Benchmark]
    public int RansDecode4096() => RansCoder.Decode(_smallRans, _decoded.AsSpan(0, _smallSymbols.Length));

    [Benchmark]
    public int ZstdCompress() => _compressor.Wrap(_symbols, _zstdScratch);

    [Benchmark]
    public int ZstdDecompress() => _decompressor.Unwrap(_zstd, _decoded);

    [Benchmark(Baseline = true)]
    public void CopyFloat32Tensor() => _floats.AsSpan().CopyTo(_floatCopy);
}
