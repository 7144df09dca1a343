using Microsoft.ML.OnnxRuntime;

namespace Cleave.Models.Text;

/// <summary>
/// A causal language model exported with KV caches (input_ids -> logits, past/present per layer) run locally:
/// prefill a prompt, step one token at a time, greedy generation and teacher-forced scoring. The model is either one
/// full graph or a split's head and tail run back to back in this process (<see cref="Split"/>), optionally with a
/// transform on the hidden state that crosses the cut (a codec round trip, for instance).
/// </summary>
public sealed class LlamaSession : IDisposable
{
    private readonly KvCacheSession _first;           // the full model, or the head
    private readonly KvCacheSession? _tail;
    private readonly Func<float[], float[]>? _crossing;

    /// <param name="maxSequence">Positions the model was trained for (its seq_len); generation and scoring stay inside it.</param>
    public LlamaSession(string modelPath, int maxSequence = int.MaxValue, SessionOptions? options = null)
        : this(new KvCacheSession(modelPath, options), null, null, maxSequence)
    {
    }

    public LlamaSession(byte[] model, int maxSequence = int.MaxValue, SessionOptions? options = null)
        : this(new KvCacheSession(model, options), null, null, maxSequence)
    {
    }

    private LlamaSession(KvCacheSession first, KvCacheSession? tail, Func<float[], float[]>? crossing, int maxSequence)
    {
        try
        {
            if (!first.TakesTokens)
                throw new InvalidDataException($"a language model session needs token ids as input, but the model's input {first.InputName} is a hidden state");
            if (tail is not null && (tail.TakesTokens || tail.InputWidth != first.OutputWidth))
                throw new InvalidDataException($"the tail's input {tail.InputName} does not take the head's output {first.OutputName} ({first.OutputWidth} values per token)");
            ArgumentOutOfRangeException.ThrowIfLessThan(maxSequence, 1);
        }
        catch
        {
            first.Dispose();
            tail?.Dispose();
            throw;
        }
        _first = first;
        _tail = tail;
        _crossing = crossing;
        MaxSequence = maxSequence;
    }

    /// <summary>
    /// A split model run in-process: head (token ids -> hidden state) then tail (hidden state -> logits).
    /// <paramref name="crossing"/>, when given, maps each hidden state [T * dim] on its way to the tail.
    /// </summary>
    public static LlamaSession Split(string headPath, string tailPath, int maxSequence = int.MaxValue,
        Func<float[], float[]>? crossing = null, SessionOptions? options = null)
    {
        var head = new KvCacheSession(headPath, options);
        KvCacheSession tail;
        try
        {
            tail = new KvCacheSession(tailPath, options);
        }
        catch
        {
            head.Dispose();
            throw;
        }
        return new LlamaSession(head, tail, crossing, maxSequence);
    }

    public int VocabSize => (_tail ?? _first).OutputWidth;
    public int MaxSequence { get; }
    public bool IsSplit => _tail is not null;

    /// <summary>Tokens in the cache: the position the next token gets.</summary>
    public int Position => _first.PastLength;

    public void Reset()
    {
        _first.Reset();
        _tail?.Reset();
    }

    /// <summary>Feeds <paramref name="tokens"/> after the cache; returns the logits of every one of them, [T * vocab].</summary>
    public float[] Prefill(ReadOnlySpan<int> tokens)
    {
        if (Position + tokens.Length > MaxSequence)
            throw new ArgumentException($"{Position} cached + {tokens.Length} new tokens exceed the model's {MaxSequence} positions", nameof(tokens));
        foreach (int token in tokens)
            if ((uint)token >= (uint)VocabSize) throw new ArgumentOutOfRangeException(nameof(tokens), token, $"token id outside the vocabulary of {VocabSize}");
        float[] output = _first.Run(tokens);
        if (_tail is null) return output;
        if (_crossing is not null)
        {
            output = _crossing(output);
            if (output.Length != tokens.Length * _tail.InputWidth)
                throw new InvalidOperationException($"the crossing transform returned {output.Length} values, not {tokens.Length * _tail.InputWidth}");
        }
        return _tail.Run(output);
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

    public void Dispose()
    {
        _first.Dispose();
        _tail?.Dispose();
    }
}
