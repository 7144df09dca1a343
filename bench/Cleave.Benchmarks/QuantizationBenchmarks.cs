using BenchmarkDotNet.Attributes;
using Cleave.Codecs;
using Cleave.Codecs.Quantization;

namespace Cleave.Benchmarks;

/// <summary>
/// 8-bit asymmetric quantization of 1,000,000 float32 values (4 MB), with a plain copy of the same input as the
/// reference measured in the same run. Throughput = 4 MB / mean time.
/// </summary>
[SimpleJob(warmupCount: 3, iterationCount: 15)]
[MemoryDiagnoser]
public class QuantizationBenchmarks
{
    private float[] _values = [];
    private float[] _copy = [];
    private byte[] _symbols = [];
    private float[] _restored = [];
    private QuantizationParameters _parameters;

    [GlobalSetup]
    public void Setup()
    {
        _values = SyntheticTensors.ReluLike(1_000_000, seed: 1);
        _copy = new float[_values.Length];
        _symbols = new byte[_values.Length];
        _restored = new float[_values.Length];
        _parameters = UniformQuantizer.Fit(_values, 8);
    }

    [Benchmark(Baseline = true, Description = "memcpy 4 MB float32 (reference)")]
    public void CopyInput() => _values.AsSpan().CopyTo(_copy);

    [Benchmark(Description = "quantize 8-bit (fit range + quantize)")]
    public void QuantizeWithFit()
    {
        var p = UniformQuantizer.Fit(_values, 8);
        UniformQuantizer.Quantize(_values, p, _symbols);
    }

    [Benchmark(Description = "quantize 8-bit (given parameters)")]
    public void Quantize() => UniformQuantizer.Quantize(_values, _parameters, _symbols);

    [Benchmark(Description = "dequantize 8-bit")]
    public void Dequantize() => UniformQuantizer.Dequantize(_symbols, _parameters, _restored);
}
