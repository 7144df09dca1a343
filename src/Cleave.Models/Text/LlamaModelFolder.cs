using Cleave.Models.Importers.Llama2c;
using Microsoft.ML.OnnxRuntime;

namespace Cleave.Models.Text;

/// <summary>An imported language-model folder (config.json, model.onnx, tokenizer.bin) opened for local use.</summary>
public sealed class LlamaModelFolder
{
    private LlamaModelFolder(string directory, LlamaModelConfig config, Llama2cTokenizer tokenizer)
    {
        Directory = directory;
        Config = config;
        Tokenizer = tokenizer;
    }

    public string Directory { get; }
    public LlamaModelConfig Config { get; }
    public Llama2cTokenizer Tokenizer { get; }
    public string ModelPath => Config.ModelPath(Directory);

    public static LlamaModelFolder Open(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string full = Path.GetFullPath(directory);
        var config = LlamaModelConfig.Load(full);
        var tokenizer = Llama2cTokenizer.Load(config.TokenizerPath(full), config.VocabSize);
        return new LlamaModelFolder(full, config, tokenizer);
    }

    /// <summary>A session on the full model, limited to the model's trained sequence length.</summary>
    public LlamaSession CreateSession(SessionOptions? options = null) => new(ModelPath, Config.SeqLen, options);

    /// <summary>Greedy continuation of <paramref name="prompt"/> (BOS + the prompt's tokens), decoded to text.</summary>
    public GenerationResult Generate(LlamaSession session, string prompt, int maxNewTokens)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(prompt);
        int[] promptTokens = Tokenizer.Encode(prompt, bos: true);
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        int[] generated = session.GenerateGreedy(promptTokens, maxNewTokens);
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(start);
        int[] all = [.. promptTokens, .. generated];
        return new GenerationResult(promptTokens, generated, Tokenizer.Decode(all.AsSpan(1)), elapsed);
    }

    /// <summary>Teacher-forced score of text documents, each encoded on its own with BOS.</summary>
    public TextScore Score(LlamaSession session, IEnumerable<string> documents)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(documents);
        var total = new TextScore();
        foreach (string document in documents) total += session.Score(Tokenizer.Encode(document, bos: true));
        return total;
    }
}

/// <summary>A generation: the prompt's tokens (with BOS), the new tokens, the whole text, and the time spent.</summary>
public sealed record GenerationResult(int[] PromptTokens, int[] GeneratedTokens, string Text, TimeSpan Elapsed)
{
    public double TokensPerSecond => GeneratedTokens.Length / Math.Max(Elapsed.TotalSeconds, 1e-9);
}
