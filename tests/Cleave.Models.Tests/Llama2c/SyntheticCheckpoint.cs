using System.Buffers.Binary;
using Cleave.Models.Importers.Llama2c;

namespace Cleave.Models.Tests.Llama2c;

/// <summary>Builds llama2.c checkpoint files with random weights, to test the format and graphs without assets.</summary>
internal static class SyntheticCheckpoint
{
    public static byte[] Create(Llama2cConfig c, int seed)
    {
        long floats = c.WeightFloatCount;
        var bytes = new byte[Llama2cConfig.HeaderBytes + floats * 4];
        int[] header = [c.Dim, c.HiddenDim, c.Layers, c.Heads, c.KvHeads, c.SharedClassifier ? c.VocabSize : -c.VocabSize, c.SeqLen];
        for (int i = 0; i < 7; i++) BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), header[i]);
        var rng = new Random(seed);
        for (long i = 0; i < floats; i++)
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan((int)(Llama2cConfig.HeaderBytes + i * 4)), (float)(rng.NextDouble() * 2 - 1) * 0.5f);
        return bytes;
    }

    /// <summary>3 layers, 4 query heads over 2 KV heads of size 8 (GroupQueryAttention takes multiples of 8), 300-token vocabulary.</summary>
    public static Llama2cConfig Small(bool shared = true) => new(Dim: 32, HiddenDim: 24, Layers: 3, Heads: 4, KvHeads: 2, VocabSize: 300, SeqLen: 32, SharedClassifier: shared);
}
