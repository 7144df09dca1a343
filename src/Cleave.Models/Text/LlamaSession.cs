using Microsoft.ML.OnnxRuntime;

namespace Cleave.Models.Text;

/// <summary>
/// A causal language model exported with KV caches (input_ids -> logits, past/present per layer) run locally:
/// prefill a prompt, step one token at a time, greedy generation and teacher-forced scoring.
/// </summary>
public sealed class LlamaSession : IDisposable
{
    private readonly KvCacheSession _stage;

    /// <param name="maxSequence">Positions the model was trained for (its seq_len); generation and scoring stay inside it.</param>
    public LlamaSession(string modelPath, int maxSequence = int.MaxValue, SessionOptions? options = null)
        : this(new KvCacheSession(modelPath, options), maxSequence)
    {
    }

    public LlamaSession(byte[] model, int maxSequence = int.MaxValue, SessionOptions? options = null)
        : this(new KvCacheSession(model, options), maxSequence)
    {
    }

    private LlamaSession(KvCacheSession stage, int maxSequence)
    {
        if (!stage.TakesTokens)
        {
            stage.Dispose();
            throw new InvalidDataException($"a language model session needs token ids as input, but the model's input {stage.InputName} is a hidden state");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSequence, 1);
        _stage = stage;
        MaxSequence = maxSequence;
    }

    public int VocabSize => _stage.OutputWidth;
    public int MaxSequence { get; }

    /// <summary>Tokens in the cache: the position the next token gets.</summary>
    public int Position => _stage.PastLength;

    public void Reset() => _stage.Reset();

    /// <summary>Feeds <paramref name="tokens"/> after the cache; returns the logits of every one of them, [T * vocab].</summary>
    public float[] Prefill(ReadOnlySpan<int> tokens)
    {
        if (Position + tokens.Length > MaxSequence)
            throw new ArgumentException($"{Position} cached + {tokens.Length} new tokens exceed the model's {MaxSequence} positions", nameof(tokens));
        foreach (int token in tokens)
            if ((uint)token >= (uint)VocabSize) throw new ArgumentOutOfRangeException(nameof(tokens), token, $"token id outside the vocabulary of {VocabSize}");
        return _stage.Run(tokens);
    }

    /// <summary>Feeds one token; returns the logits for the next one.</summary>
    public float[] Step(int token) => Prefill([token]);

    /// <summary>
    /// Greedy decoding with the KV cache: resets, prefills <paramref name="prompt"/>, then appends the argmax token
    /// until <paramref name="maxNewTokens"/>, <paramref name="stopToken"/> (BOS, as run.c stops) or the last position.
    /// Returns only the new tokens (the stop token excluded).
    /// </summary>
    public int[] GenerateGreedy(ReadOnlySpan<int> prompt, int maxNewTokens, int stopToken = Llama2cTokenizer.Bos)
    {
        if (prompt.IsEmpty) throw new ArgumentException("the prompt needs at least one token (BOS)", nameof(prompt));
        ArgumentOutOfRangeException.ThrowIfNegative(maxNewTokens);
        Reset();
        var generated = new List<int>(maxNewTokens);
        if (maxNewTokens == 0) return [];
        float[] all = Prefill(prompt);
        var logits = all.AsSpan(all.Length - VocabSize);
        while (true)
        {
            int next = TextScore.ArgMax(logits);
            if (next == stopToken) break;
            generated.Add(next);
            if (generated.Count >= maxNewTokens || Position >= MaxSequence) break;
            logits = Step(next);
        }
        return [.. generated];
    }

    /// <summary>
    /// Teacher-forced score of <paramref name="tokens"/> (starting with BOS): each token after the first is predicted
    /// from all before it. Sequences longer than <see cref="MaxSequence"/> are scored in independent windows.
    /// </summary>
    public TextScore Score(ReadOnlySpan<int> tokens)
    {
        var score = new TextScore();
        for (int start = 0; start + 1 < tokens.Length; start += MaxSequence)
        {
            var window = tokens.Slice(start, Math.Min(MaxSequence, tokens.Length - start));
            if (window.Length < 2) break;
            Reset();
            float[] logits = Prefill(window);
            for (int i = 0; i + 1 < window.Length; i++)
                score += TextScore.Of(logits.AsSpan(i * VocabSize, VocabSize), window[i + 1]);
        }
        return score;
    }

    public void Dispose() => _stage.Dispose();
}
