using System.Text.Json;
using System.Text.Json.Serialization;
using Cleave.Codecs.IO;

namespace Cleave.Models.Importers.Llama2c;

/// <summary>
/// config.json of an imported language-model folder: the architecture, where the files are, and the source's
/// SHA-256 so that a client and a server can check they hold the same model.
/// </summary>
public sealed record LlamaModelConfig
{
    public const string FileName = "config.json";

    public string Format { get; init; } = "llama2c";
    public int Dim { get; init; }
    public int HiddenDim { get; init; }
    public int Layers { get; init; }
    public int Heads { get; init; }
    public int KvHeads { get; init; }
    public int HeadSize { get; init; }
    public int VocabSize { get; init; }
    public int SeqLen { get; init; }
    public bool SharedClassifier { get; init; }
    public float RopeTheta { get; init; } = Llama2cConfig.RopeTheta;
    public float RmsNormEpsilon { get; init; } = Llama2cConfig.RmsNormEpsilon;
    public int Bos { get; init; } = 1;
    public int Eos { get; init; } = 2;
    public string Source { get; init; } = "";
    public string SourceSha256 { get; init; } = "";
    public string TokenizerSha256 { get; init; } = "";
    public string Model { get; init; } = Llama2cExport.ModelFile;
    public string Tokenizer { get; init; } = "tokenizer.bin";

    /// <summary>Split layers k whose head_k.onnx / tail_k.onnx were written beside the model.</summary>
    public int[] Splits { get; init; } = [];

    /// <summary>Name of the residual-stream tensor after each layer, the single-tensor split points.</summary>
    public string[] SplitTensors { get; init; } = [];

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static LlamaModelConfig From(Llama2cConfig c, string source, string sourceSha256, string tokenizerSha256, int[] splits) => new()
    {
        Dim = c.Dim, HiddenDim = c.HiddenDim, Layers = c.Layers, Heads = c.Heads, KvHeads = c.KvHeads, HeadSize = c.HeadSize,
        VocabSize = c.VocabSize, SeqLen = c.SeqLen, SharedClassifier = c.SharedClassifier,
        Source = source, SourceSha256 = sourceSha256, TokenizerSha256 = tokenizerSha256, Splits = splits,
        SplitTensors = [.. Enumerable.Range(0, c.Layers).Select(Llama2cExport.LayerOutput)],
    };

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    public void Save(string directory) => AtomicFile.WriteAllBytes(Path.Combine(directory, FileName), System.Text.Encoding.UTF8.GetBytes(ToJson()));

    /// <summary>Reads DIR/config.json; throws <see cref="InvalidDataException"/> when it is missing or not a model config.</summary>
    public static LlamaModelConfig Load(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"'{directory}' is not an imported language model: {FileName} is missing", path);
        LlamaModelConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<LlamaModelConfig>(File.ReadAllText(path), Options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e);
        }
        if (config is null || config.Format != "llama2c" || config.VocabSize <= 0 || config.Layers <= 0 || config.SeqLen <= 0)
            throw new InvalidDataException($"{path} does not describe a llama2c model (format, vocabSize, layers and seqLen are needed)");
        return config;
    }

    public string ModelPath(string directory) => Path.Combine(directory, Model);
    public string TokenizerPath(string directory) => Path.Combine(directory, Tokenizer);
}
