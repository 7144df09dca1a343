namespace Cleave.Models.Importers.Llama2c;

/// <summary>
/// The hyperparameters in a llama2.c checkpoint header (7 int32). A negative vocabulary size in the file means the
/// classifier has its own weights (<see cref="SharedClassifier"/> false); here the size is always positive.
/// </summary>
public sealed record Llama2cConfig(int Dim, int HiddenDim, int Layers, int Heads, int KvHeads, int VocabSize, int SeqLen, bool SharedClassifier)
{
    /// <summary>Bytes in the file header.</summary>
    public const int HeaderBytes = 7 * sizeof(int);

    /// <summary>llama2.c's RMSNorm epsilon and RoPE base, fixed by its run.c.</summary>
    public const float RmsNormEpsilon = 1e-5f, RopeTheta = 10000f;

    public int HeadSize => Dim / Heads;
    public int KvDim => KvHeads * HeadSize;

    /// <summary>Query heads that share one key/value head (grouped-query attention).</summary>
    public int QueriesPerKvHead => Heads / KvHeads;

    /// <summary>Reads and checks the header; throws <see cref="Llama2cFormatException"/> for impossible values.</summary>
    public static Llama2cConfig Parse(ReadOnlySpan<byte> header)
    {
        if (header.Length < HeaderBytes)
            throw new Llama2cFormatException($"llama2.c checkpoint truncated: {header.Length} bytes, the header alone is {HeaderBytes}");
        Span<int> v = stackalloc int[7];
        for (int i = 0; i < 7; i++) v[i] = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(header[(i * 4)..]);
        var config = new Llama2cConfig(v[0], v[1], v[2], v[3], v[4], Math.Abs(v[5]), v[6], v[5] > 0);
        config.Validate();
        return config;
    }

    public void Validate()
    {
        static void Check(bool ok, string what)
        {
            if (!ok) throw new Llama2cFormatException($"llama2.c header is not plausible: {what}");
        }
        Check(Dim is > 0 and <= 65536, $"dim {Dim}");
        Check(HiddenDim is > 0 and <= 1 << 20, $"hidden_dim {HiddenDim}");
        Check(Layers is > 0 and <= 1024, $"n_layers {Layers}");
        Check(Heads > 0 && Dim % Heads == 0, $"n_heads {Heads} does not divide dim {Dim}");
        Check(KvHeads > 0 && Heads % KvHeads == 0, $"n_kv_heads {KvHeads} does not divide n_heads {Heads}");
        Check(HeadSize % 2 == 0, $"head size {HeadSize} is odd (RoPE rotates pairs)");
        Check(VocabSize is > 3 and <= 1 << 22, $"vocab_size {VocabSize}");
        Check(SeqLen is > 0 and <= 1 << 20, $"seq_len {SeqLen}");
    }

    /// <summary>Number of float32 values after the header, including llama2.c's legacy RoPE tables.</summary>
    public long WeightFloatCount
    {
        get
        {
            long d = Dim, h = HiddenDim, l = Layers, kv = KvDim;
            long count = VocabSize * d            // token_embedding_table
                + l * d                           // rms_att_weight
                + l * d * d                       // wq
                + 2 * l * d * kv                  // wk, wv
                + l * d * d                       // wo
                + l * d                           // rms_ffn_weight
                + 3 * l * d * h                   // w1, w2, w3
                + d                               // rms_final_weight
                + (long)SeqLen * HeadSize;        // freq_cis_real + freq_cis_imag (seq_len * head_size / 2 each)
            return SharedClassifier ? count : count + VocabSize * d;
        }
    }
}
