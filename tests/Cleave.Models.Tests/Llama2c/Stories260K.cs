using Cleave.Models.Importers.Llama2c;
using Cleave.Models.Text;
using Google.Protobuf;

namespace Cleave.Models.Tests.Llama2c;

/// <summary>The shared stories260K checkpoint, tokenizer and exported model, loaded once for all tests.</summary>
internal static class Stories260K
{
    public const string Checkpoint = "llm/stories260K.bin", Tokenizer = "llm/tok512.bin", Sample = "llm/tinystories_sample.txt";
    public const string ReferenceOnnx = "reference/stories260K.onnx";

    /// <summary>The start of llama2.c's documented greedy sample for stories260K (temperature 0, from BOS).</summary>
    public const string DocumentedSample =
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.";

    private static readonly Lazy<Llama2cCheckpoint> LazyModel = new(() => Llama2cCheckpoint.Load(TestAssets.Path(Checkpoint)));
    private static readonly Lazy<byte[]> LazyOnnx = new(() => Llama2cExport.BuildFull(Model).ToByteArray());
    private static readonly Lazy<Llama2cTokenizer> LazyTokenizer = new(() => Llama2cTokenizer.Load(TestAssets.Path(Tokenizer), Model.Config.VocabSize));

    public static Llama2cCheckpoint Model => LazyModel.Value;
    public static byte[] OnnxBytes => LazyOnnx.Value;
    public static Llama2cTokenizer Tok => LazyTokenizer.Value;

    public static LlamaSession OpenSession() => new(OnnxBytes, Model.Config.SeqLen);
}
