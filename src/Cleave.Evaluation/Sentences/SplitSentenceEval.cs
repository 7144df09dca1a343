using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Models.Onnx;
using Cleave.Models.Profiling;
using Cleave.Models.Splitting;

namespace Cleave.Evaluation.Sentences;

/// <summary>
/// What one codec at one cut of a sentence encoder did on STS pairs. Spearman is between the pairs' embedding cosines
/// and the gold scores; bytes are whole frames (headers included), one frame per sentence of T tokens.
/// </summary>
public sealed record SplitSentenceResult(
    string Codec, string Split, int Pairs, long Tokens,
    double Spearman, double FullSpearman, double MeanCosineToUnsplit, double MinCosineToUnsplit,
    double BytesPerToken, double BytesMean, double Float32BytesPerToken,
    double EncodeMs, double DecodeMs, double TailMs);

/// <summary>
/// STS evaluation of a split sentence encoder: every sentence is tokenized and run once through the full model (the
/// unsplit embeddings) and once through the head; then each codec encodes, decodes and hands the hidden state
/// [1,T,H] to the tail (with the attention mask, a side input), whose token states are mean-pooled and compared by
/// cosine. The head's outputs are kept between codecs, so a codec costs one tail run per sentence.
/// </summary>
public sealed class SplitSentenceEval : IDisposable
{
    private readonly OrtModelRunner _tail;
    private readonly string _cut;
    private readonly string _output;
    private readonly IReadOnlyList<StsPair> _pairs;
    private readonly long[][] _tokens;
    private readonly float[][] _hidden;
    private readonly long[][] _hiddenShape;
    private readonly float[][] _fullEmbeddings;

    private SplitSentenceEval(OrtModelRunner tail, string cut, string output, IReadOnlyList<StsPair> pairs,
        long[][] tokens, float[][] hidden, long[][] hiddenShape, float[][] fullEmbeddings)
    {
        _tail = tail;
        _cut = cut;
        _output = output;
        _pairs = pairs;
        _tokens = tokens;
        _hidden = hidden;
        _hiddenShape = hiddenShape;
        _fullEmbeddings = fullEmbeddings;
        var cosines = new double[pairs.Count];
        for (int i = 0; i < cosines.Length; i++) cosines[i] = SentenceEncoderModel.Cosine(fullEmbeddings[2 * i], fullEmbeddings[2 * i + 1]);
        FullSpearman = SpearmanCorrelation.Compute(cosines, Gold(pairs));
    }

    /// <summary>Spearman of the unsplit model's cosines against the gold scores.</summary>
    public double FullSpearman { get; }

    /// <summary>The unsplit model's sentence embeddings (pair i: sentences 2i and 2i+1).</summary>
    public IReadOnlyList<float[]> FullEmbeddings => _fullEmbeddings;

    /// <summary>Splits the model at <paramref name="cutTensor"/> and runs the full model and the head on every sentence.</summary>
    /// <param name="progress">called with (sentence index, sentence count) before each sentence</param>
    public static SplitSentenceEval Prepare(SentenceEncoderModel model, string cutTensor, IReadOnlyList<StsPair> pairs,
        Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (pairs.Count < 2) throw new ArgumentException($"Spearman needs at least 2 pairs, got {pairs.Count}");
        var onnx = OnnxModel.FromBytes(model.OnnxBytes, model.Name);
        var split = ModelSplitter.Split(onnx, [cutTensor]);
        // The mask (and token types) of one unpadded sentence follow from T, which the frame's shape carries.
        if (split.Plan.TailGraphInputs.Any(n => n is not ("attention_mask" or "token_type_ids")))
            throw new NotSupportedException($"the tail at '{cutTensor}' also needs {string.Join(", ", split.Plan.TailGraphInputs)}; only the attention mask and token types are passed through");
        using var full = new OrtModelRunner(model.OnnxBytes);
        using var head = new OrtModelRunner(split.Head.ToBytes());
        var tail = new OrtModelRunner(split.Tail.ToBytes());
        try
        {
            string output = full.OutputNames[0];
            if (!tail.OutputNames.Contains(output))
                throw new InvalidOperationException($"the tail does not make the model's first output '{output}'");

            int count = 2 * pairs.Count;
            var tokens = new long[count][];
            var hidden = new float[count][];
            var shapes = new long[count][];
            var embeddings = new float[count][];
            for (int s = 0; s < count; s++)
            {
                progress?.Invoke(s, count);
                tokens[s] = model.Tokenize(s % 2 == 0 ? pairs[s / 2].First : pairs[s / 2].Second);
                var inputs = Inputs(tokens[s]);
                var states = full.Run(inputs, [output])[output];
                embeddings[s] = SentenceEncoderModel.MeanPool((float[])states.Data, tokens[s].Length);
                var cut = head.Run(inputs, [cutTensor])[cutTensor];
                hidden[s] = (float[])cut.Data;
                shapes[s] = cut.Shape;
            }
            return new SplitSentenceEval(tail, cutTensor, output, pairs, tokens, hidden, shapes, embeddings);
        }
        catch
        {
            tail.Dispose();
            throw;
        }
    }

    /// <summary>One codec at the cut over every pair.</summary>
    /// <param name="progress">called with the sentence index before each sentence</param>
    public SplitSentenceResult Run(FeatureCodec codec, Action<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(codec);
        int count = _tokens.Length;
        var embeddings = new float[count][];
        long bytes = 0, tokenTotal = 0, floats = 0;
        double encodeMs = 0, decodeMs = 0, tailMs = 0, cosineSum = 0, cosineMin = double.PositiveInfinity;
        for (int s = 0; s < count; s++)
        {
            progress?.Invoke(s);
            var trip = CodecRoundTrip.Run(codec, _hidden[s], _hiddenShape[s]);
            bytes += trip.FrameBytes;
            encodeMs += trip.EncodeMs;
            decodeMs += trip.DecodeMs;
            tokenTotal += _tokens[s].Length;
            floats += _hidden[s].Length;

            long t0 = Stopwatch.GetTimestamp();
            var inputs = Inputs(_tokens[s]);
            inputs[_cut] = new HostTensor(OnnxElementType.Float, _hiddenShape[s], trip.Restored);
            var states = _tail.Run(inputs, [_output])[_output];
            tailMs += Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            embeddings[s] = SentenceEncoderModel.MeanPool((float[])states.Data, _tokens[s].Length);
            double toFull = SentenceEncoderModel.Cosine(embeddings[s], _fullEmbeddings[s]);
            cosineSum += toFull;
            cosineMin = Math.Min(cosineMin, toFull);
        }

        var cosines = new double[_pairs.Count];
        for (int i = 0; i < cosines.Length; i++) cosines[i] = SentenceEncoderModel.Cosine(embeddings[2 * i], embeddings[2 * i + 1]);
        return new SplitSentenceResult(codec.Spec, _cut, _pairs.Count, tokenTotal,
            SpearmanCorrelation.Compute(cosines, Gold(_pairs)), FullSpearman, cosineSum / count, cosineMin,
            (double)bytes / tokenTotal, (double)bytes / count, 4.0 * floats / tokenTotal,
            encodeMs / count, decodeMs / count, tailMs / count);
    }

    private static Dictionary<string, HostTensor> Inputs(long[] ids)
    {
        long[] shape = [1, ids.Length];
        var mask = new long[ids.Length];
        Array.Fill(mask, 1L);
        return new Dictionary<string, HostTensor>(StringComparer.Ordinal)
        {
            ["input_ids"] = new(OnnxElementType.Int64, shape, ids),
            ["attention_mask"] = new(OnnxElementType.Int64, shape, mask),
            ["token_type_ids"] = new(OnnxElementType.Int64, shape, new long[ids.Length]),
        };
    }

    private static double[] Gold(IReadOnlyList<StsPair> pairs)
    {
        var gold = new double[pairs.Count];
        for (int i = 0; i < gold.Length; i++) gold[i] = pairs[i].Gold;
        return gold;
    }

    public void Dispose() => _tail.Dispose();
}
