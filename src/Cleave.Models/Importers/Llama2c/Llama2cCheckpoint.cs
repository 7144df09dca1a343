using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Cleave.Models.Importers.Llama2c;

/// <summary>
/// A llama2.c "legacy" checkpoint (run.c's format): the header, then float32 weights in run.c's order. Matrices are
/// kept as the file stores them, row-major [out, in] (run.c computes W x), one array per kind with all layers.
/// </summary>
public sealed class Llama2cCheckpoint
{
    private Llama2cCheckpoint(Llama2cConfig config) => Config = config;

    public Llama2cConfig Config { get; }

    /// <summary>Lowercase hex SHA-256 of the file the weights came from (empty when built in memory).</summary>
    public string SourceSha256 { get; private init; } = "";

    public float[] TokenEmbedding { get; private init; } = [];   // [vocab, dim]
    public float[] RmsAttention { get; private init; } = [];     // [layers, dim]
    public float[] Wq { get; private init; } = [];               // [layers, dim(out), dim(in)]
    public float[] Wk { get; private init; } = [];               // [layers, kv_dim, dim]
    public float[] Wv { get; private init; } = [];               // [layers, kv_dim, dim]
    public float[] Wo { get; private init; } = [];               // [layers, dim, dim]
    public float[] RmsFfn { get; private init; } = [];           // [layers, dim]
    public float[] W1 { get; private init; } = [];               // [layers, hidden, dim]
    public float[] W2 { get; private init; } = [];               // [layers, dim, hidden]
    public float[] W3 { get; private init; } = [];               // [layers, hidden, dim]
    public float[] RmsFinal { get; private init; } = [];         // [dim]
    public float[] Classifier { get; private init; } = [];       // [vocab, dim]; the embedding itself when shared

    public static Llama2cCheckpoint Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = File.ReadAllBytes(path);
        return Parse(bytes);
    }

    /// <summary>Parses a whole checkpoint; the length must be exactly what the header promises.</summary>
    public static Llama2cCheckpoint Parse(ReadOnlySpan<byte> file)
    {
        var config = Llama2cConfig.Parse(file);
        long expected = Llama2cConfig.HeaderBytes + config.WeightFloatCount * sizeof(float);
        if (file.Length != expected)
            throw new Llama2cFormatException(
                $"llama2.c checkpoint is {file.Length} bytes, but its header (dim {config.Dim}, hidden {config.HiddenDim}, layers {config.Layers}, " +
                $"heads {config.Heads}/{config.KvHeads}, vocab {config.VocabSize}{(config.SharedClassifier ? "" : " unshared")}, seq_len {config.SeqLen}) implies {expected}");

        var floats = MemoryMarshal.Cast<byte, float>(file[Llama2cConfig.HeaderBytes..]);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("llama2.c checkpoints are little-endian");
        int offset = 0;
        static float[] TakeFrom(ReadOnlySpan<float> floats, ref int offset, long count)
        {
            var result = floats.Slice(offset, checked((int)count)).ToArray();
            offset += (int)count;
            foreach (float f in result)
                if (!float.IsFinite(f)) throw new Llama2cFormatException($"llama2.c checkpoint holds a non-finite weight near float {offset}");
            return result;
        }

        long d = config.Dim, l = config.Layers, kv = config.KvDim, h = config.HiddenDim;
        var embedding = TakeFrom(floats, ref offset, config.VocabSize * d);
        var rmsAtt = TakeFrom(floats, ref offset, l * d);
        var wq = TakeFrom(floats, ref offset, l * d * d);
        var wk = TakeFrom(floats, ref offset, l * kv * d);
        var wv = TakeFrom(floats, ref offset, l * kv * d);
        var wo = TakeFrom(floats, ref offset, l * d * d);
        var rmsFfn = TakeFrom(floats, ref offset, l * d);
        var w1 = TakeFrom(floats, ref offset, l * h * d);
        var w2 = TakeFrom(floats, ref offset, l * d * h);
        var w3 = TakeFrom(floats, ref offset, l * h * d);
        var rmsFinal = TakeFrom(floats, ref offset, d);
        offset += config.SeqLen * config.HeadSize; // legacy freq_cis_real and freq_cis_imag: RoPE is computed in the graph
        var classifier = config.SharedClassifier ? embedding : TakeFrom(floats, ref offset, config.VocabSize * d);

        return new Llama2cCheckpoint(config)
        {
            SourceSha256 = Convert.ToHexStringLower(SHA256.HashData(file)),
            TokenEmbedding = embedding, RmsAttention = rmsAtt, Wq = wq, Wk = wk, Wv = wv, Wo = wo,
            RmsFfn = rmsFfn, W1 = w1, W2 = w2, W3 = w3, RmsFinal = rmsFinal, Classifier = classifier,
        };
    }
}
