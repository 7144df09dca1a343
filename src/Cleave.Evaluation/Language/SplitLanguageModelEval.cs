using Cleave.Codecs;
using Cleave.Models.Importers.Llama2c;
using Cleave.Models.Text;
using Cleave.Runtime.Generation;

namespace Cleave.Evaluation.Language;

/// <summary>One (split layer, codec) point: teacher-forced quality with the cut's hidden states through the codec, and its bits.</summary>
public sealed record LanguageCodecResult
{
    public required int SplitLayer { get; init; }
    public required string Codec { get; init; }
    public required int Documents { get; init; }
    /// <summary>Tokens whose hidden state crossed the cut (every token of every document).</summary>
    public required int Tokens { get; init; }
    public required TextScore Score { get; init; }
    public required long PayloadBytes { get; init; }
    /// <summary>Per-session codec state, paid once per document (one session each).</summary>
    public required long StateBytes { get; init; }
    public required int Dim { get; init; }
    /// <summary>
    /// Each step after the first was predicted from its input token, which the decoder was assumed to know (as a server knows the tokens
    /// it sampled itself): <c>tq:...,predict=token</c>. Its model-level table is not counted in the bits (<see cref="ModelDataBytes"/>).
    /// </summary>
    public bool PredictedFromInputTokens { get; init; }
    /// <summary>Data the codec needs beside the model's halves, shipped with the split once (the token prediction table), not per session.</summary>
    public long ModelDataBytes { get; init; }

    public double PayloadBitsPerToken => PayloadBytes * 8.0 / Tokens;
    public double StateBitsPerToken => StateBytes * 8.0 / Tokens;
    public double BitsPerToken => PayloadBitsPerToken + StateBitsPerToken;
    /// <summary>Bits per token over float32's (32 d): 0.125 is the 8x target.</summary>
    public double FractionOfFloat32 => BitsPerToken / (32.0 * Dim);
}

/// <summary>
/// Teacher-forced perplexity and next-token top-1 of a split language model with the hidden state at the cut passed
/// through a codec, token by token as generation would send it (one payload per token, so frame headers count), with
/// the decoded states run through the tail. Each document is one session: per-session codec state is paid once per
/// document. A codec that predicts from input tokens (<c>tq:...,predict=token</c>) gets every step's input token but the
/// first (BOS, the prompt) on both sides: the decoder is assumed to know it, as a server does for the tokens it sampled
/// itself.
/// </summary>
public static class SplitLanguageModelEval
{
    /// <summary>The whole model, no cut: the reference the codecs are compared with.</summary>
    public static TextScore Reference(LlamaModelFolder model, IReadOnlyList<string> documents)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var session = model.CreateSession();
        return model.Score(session, documents);
    }

    public static LanguageCodecResult Evaluate(LlamaModelFolder model, int splitLayer, string codecSpec, IReadOnlyList<string> documents,
        Func<TokenCalibrationRows> calibration)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(documents);
        if (splitLayer < 1 || splitLayer >= model.Config.Layers)
            throw new ArgumentOutOfRangeException(nameof(splitLayer), splitLayer, $"split layer must be 1..{model.Config.Layers - 1}");
        using var head = new KvCacheSession(Path.Combine(model.Directory, Llama2cExport.HeadFile(splitLayer)));
        using var tail = new KvCacheSession(Path.Combine(model.Directory, Llama2cExport.TailFile(splitLayer)));
        int dim = head.OutputWidth;
        var sender = TokenPredictionTableFile.SenderCodec(codecSpec, model, splitLayer, calibration);
        bool predicts = sender.PredictsFromInputToken;
        var table = predicts ? TokenPredictionTableFile.Read(TokenPredictionTableFile.PathOf(model.Directory, splitLayer)) : null;
        var receiver = table is not null
            ? TokenStreamCodec.ForPredictingReceiver(sender.Spec, sender.SessionState, table)
            : TokenStreamCodec.ForReceiver(sender.Spec, sender.SessionState, dim);

        var score = new TextScore();
        long payloadBytes = 0, stateBytes = 0;
        int tokensSent = 0, documentCount = 0;
        int vocab = model.Config.VocabSize;
        foreach (string document in documents)
        {
            int[] tokens = model.Tokenizer.Encode(document, bos: true);
            if (tokens.Length > model.Config.SeqLen) tokens = tokens[..model.Config.SeqLen];
            if (tokens.Length < 2) continue;
            head.Reset();
            tail.Reset();
            float[] hidden = head.Run(tokens);
            var decoded = new float[hidden.Length];
            for (int t = 0; t < tokens.Length; t++)
            {
                // The first step (BOS) is the prompt, which a server never sampled: it goes plain, as in generation.
                int inputToken = predicts && t > 0 ? tokens[t] : -1;
                byte[] payload = sender.Encode(hidden.AsSpan(t * dim, dim), inputToken);
                payloadBytes += payload.Length;
                receiver.Decode(payload, decoded.AsSpan(t * dim, dim), inputToken);
            }
            float[] logits = tail.Run(decoded);
            for (int i = 0; i + 1 < tokens.Length; i++) score += TextScore.Of(logits.AsSpan(i * vocab, vocab), tokens[i + 1]);
            tokensSent += tokens.Length;
            stateBytes += sender.SessionState.Length;
            documentCount++;
        }
        return new LanguageCodecResult
        {
            SplitLayer = splitLayer, Codec = sender.Spec, Documents = documentCount, Tokens = tokensSent, Score = score,
            PayloadBytes = payloadBytes, StateBytes = stateBytes, Dim = dim,
            PredictedFromInputTokens = predicts, ModelDataBytes = table is null ? 0 : table.Serialize().Length,
        };
    }
}
