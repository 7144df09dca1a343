using System.Buffers;
using Cleave.Codecs.Entropy;

namespace Cleave.Codecs.Tests.Entropy;

/// <summary>Inputs shared by the rANS tests: quantized synthetic activations and random symbol streams.</summary>
internal static class RansTestData
{
    /// <summary>q = round(x / max * (2^bits - 1)) with min 0, as a ReLU output would be quantized.</summary>
    public static byte[] QuantizedReluLike(int count, int bits, int seed = 1)
    {
        float[] values = SyntheticTensors.ReluLike(count, seed);
        float max = 0;
        foreach (float v in values) max = Math.Max(max, v);
        int levels = (1 << bits) - 1;
        var symbols = new byte[count];
        for (int i = 0; i < count; i++) symbols[i] = (byte)Math.Round(values[i] / max * levels);
        return symbols;
    }

    public enum Shape { Uniform, Geometric, Single, TwoSymbols, Spiky }

    /// <summary>Random symbols below <paramref name="alphabetSize"/> with a distribution of the given shape.</summary>
    public static ushort[] Symbols(Random random, int count, int alphabetSize, Shape shape)
    {
        var symbols = new ushort[count];
        int single = random.Next(alphabetSize);
        double ratio = 0.5 + 0.49 * random.NextDouble();
        for (int i = 0; i < count; i++)
        {
            int s = shape switch
            {
                Shape.Uniform => random.Next(alphabetSize),
                Shape.Geometric => (int)Math.Min(alphabetSize - 1, Math.Floor(Math.Log(1 - random.NextDouble()) / Math.Log(ratio))),
                Shape.Single => single,
                Shape.TwoSymbols => random.NextDouble() < 0.999 ? single : (single + 1) % alphabetSize,
                _ => random.NextDouble() < 0.9 ? single : random.Next(alphabetSize),
            };
            symbols[i] = (ushort)s;
        }
        return symbols;
    }

    public static byte[] Encode(ReadOnlySpan<byte> symbols, int alphabetSize, int scaleBits = RansCoder.DefaultScaleBits)
    {
        var writer = new ArrayBufferWriter<byte>();
        RansCoder.Encode(symbols, alphabetSize, writer, scaleBits);
        return writer.WrittenSpan.ToArray();
    }

    public static byte[] Encode(ReadOnlySpan<ushort> symbols, int alphabetSize, int scaleBits = RansCoder.DefaultScaleBits)
    {
        var writer = new ArrayBufferWriter<byte>();
        RansCoder.Encode(symbols, alphabetSize, writer, scaleBits);
        return writer.WrittenSpan.ToArray();
    }
}
