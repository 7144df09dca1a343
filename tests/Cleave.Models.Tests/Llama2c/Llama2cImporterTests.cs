using System.Text.Json;
using Cleave.Models.Importers.Llama2c;
using Cleave.Models.Text;

namespace Cleave.Models.Tests.Llama2c;

public sealed class Llama2cImporterTests
{
    [AssetFact(Stories260K.Checkpoint, Stories260K.Tokenizer)]
    public void Import_writes_a_folder_that_generates_the_sample()
    {
        using var folder = new TempFolder();
        string dir = Path.Combine(folder.Path, "stories");
        var result = Llama2cImporter.Import(TestAssets.Path(Stories260K.Checkpoint), TestAssets.Path(Stories260K.Tokenizer), dir, writeSplits: true);

        Assert.Equal(Path.Combine(dir, "model.onnx"), result.ModelPath);
        Assert.True(result.ModelBytes > 4 * 260_000, "the weights are stored in the model");
        for (int k = 1; k < 5; k++)
        {
            Assert.True(File.Exists(Path.Combine(dir, Llama2cExport.HeadFile(k))));
            Assert.True(File.Exists(Path.Combine(dir, Llama2cExport.TailFile(k))));
        }
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));

        var config = LlamaModelConfig.Load(dir);
        Assert.Equal(result.Config, config with { Splits = result.Config.Splits, SplitTensors = result.Config.SplitTensors });
        Assert.Equal([1, 2, 3, 4], config.Splits);
        Assert.Equal(["layer0_out", "layer1_out", "layer2_out", "layer3_out", "layer4_out"], config.SplitTensors);
        Assert.Equal(Stories260K.Model.SourceSha256, config.SourceSha256);
        Assert.Equal(64, JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "config.json"))).RootElement.GetProperty("dim").GetInt32());

        var model = LlamaModelFolder.Open(dir);
        using var session = model.CreateSession();
        Assert.Equal(512, session.MaxSequence);
        var generation = model.Generate(session, "", 40);
        Assert.StartsWith("Once upon a time, there was a little girl named Lily.", generation.Text, StringComparison.Ordinal);
        Assert.Equal(40, generation.GeneratedTokens.Length);
        Assert.Equal([Llama2cTokenizer.Bos], generation.PromptTokens);
    }

    [AssetFact(Stories260K.Checkpoint, Stories260K.Tokenizer)]
    public void A_tokenizer_for_another_vocabulary_is_refused_before_anything_is_written()
    {
        using var folder = new TempFolder();
        string dir = Path.Combine(folder.Path, "out");
        string wrongTokenizer = Path.Combine(folder.Path, "tok.bin");
        byte[] tokenizer = File.ReadAllBytes(TestAssets.Path(Stories260K.Tokenizer));
        File.WriteAllBytes(wrongTokenizer, tokenizer.AsSpan(0, tokenizer.Length - 3).ToArray());
        Assert.Throws<Llama2cFormatException>(() => Llama2cImporter.Import(TestAssets.Path(Stories260K.Checkpoint), wrongTokenizer, dir));
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void Config_load_reports_a_folder_that_is_not_a_model()
    {
        using var folder = new TempFolder();
        Assert.Throws<FileNotFoundException>(() => LlamaModelConfig.Load(folder.Path));
        File.WriteAllText(Path.Combine(folder.Path, "config.json"), "{ \"format\": \"other\" }");
        Assert.Throws<InvalidDataException>(() => LlamaModelConfig.Load(folder.Path));
        File.WriteAllText(Path.Combine(folder.Path, "config.json"), "{ not json");
        Assert.Throws<InvalidDataException>(() => LlamaModelConfig.Load(folder.Path));
    }
}
