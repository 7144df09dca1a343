using System.Text.Json;
using Cleave.Models;

namespace Cleave.Cli.Tests;

public sealed class Llama2cCommandTests
{
    [AssetFact("llm/stories260K.bin", "llm/tok512.bin", "llm/tinystories_sample.txt")]
    public void Dump_writes_one_hidden_state_tensor_per_document()
    {
        string checkpoint = TestAssets.Path("llm/stories260K.bin"), tokenizer = TestAssets.Path("llm/tok512.bin"), text = TestAssets.Path("llm/tinystories_sample.txt");

        using var dir = new TempFolder();
        string model = dir.File("stories");
        var (code, _, stderr) = CliRunner.Run("import", checkpoint, "--tokenizer", tokenizer, "-o", model, "--splits");
        Assert.True(code == 0, stderr);
        (code, _, stderr) = CliRunner.Run("dump", model, "--layer", "2", "--text", text, "--limit", "2", "-o", dir.File("features"));
        Assert.True(code == 0, stderr);
        var files = Directory.GetFiles(dir.File("features"), "*.npy").Order().ToArray();
        Assert.Equal(2, files.Length);
        var (values, shape) = Cleave.Codecs.Npy.NpyFile.ReadFloat32(files[0]);
        Assert.Equal(64, shape[1]);
        Assert.True(shape[0] > 10, "a story has more than 10 tokens");
        Assert.Contains(values, v => v != 0);

        (code, _, stderr) = CliRunner.Run("dump", model, "--layer", "5", "--text", text, "-o", dir.File("bad"));
        Assert.Equal(1, code);
        Assert.Contains("split layer must be 1..4", stderr);
    }

    [AssetFact("llm/stories260K.bin", "llm/tok512.bin")]
    public void Import_then_generate_reproduces_the_documented_sample()
    {
        string checkpoint = TestAssets.Path("llm/stories260K.bin"), tokenizer = TestAssets.Path("llm/tok512.bin");

        using var dir = new TempFolder();
        string model = dir.File("stories");
        var (code, stdout, stderr) = CliRunner.Run("import", checkpoint, "--tokenizer", tokenizer, "-o", model, "--splits", "--measure-perplexity", "--json");
        Assert.True(code == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            Assert.Equal(5, doc.RootElement.GetProperty("layers").GetInt32());
            Assert.Equal(4, doc.RootElement.GetProperty("splits").GetArrayLength());
            Assert.InRange(doc.RootElement.GetProperty("perplexity").GetProperty("perplexity").GetDouble(), 3.68 * 0.99, 3.68 * 1.01);
        }
        Assert.True(File.Exists(Path.Combine(model, "tail_4.onnx")));

        (code, stdout, stderr) = CliRunner.Run("generate", "--model", model, "--local", "--max-tokens", "40", "--json");
        Assert.True(code == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            Assert.StartsWith("Once upon a time, there was a little girl named Lily.", doc.RootElement.GetProperty("text").GetString(), StringComparison.Ordinal);
            Assert.Equal(40, doc.RootElement.GetProperty("generated_tokens").GetInt32());
        }

        (code, stdout, stderr) = CliRunner.Run("generate", "--model", model, "--local", "--prompt", "Tim and his dog", "--max-tokens", "10");
        Assert.True(code == 0, stderr);
        Assert.StartsWith("Tim and his dog", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_lists_generate_and_import_explains_llama2c()
    {
        var (code, stdout, _) = CliRunner.Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("generate", stdout);
        (code, stdout, _) = CliRunner.Run("import", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--tokenizer", stdout);
    }

    [Fact]
    public void Bad_llama_arguments_get_clear_messages()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("x.bin"), new byte[10]);
        var (code, _, stderr) = CliRunner.Run("import", dir.File("x.bin"), "-o", dir.File("out"));
        Assert.Equal(2, code);
        Assert.Contains("--tokenizer", stderr);

        (code, _, stderr) = CliRunner.Run("import", dir.File("x.bin"), "--tokenizer", dir.File("x.bin"), "-o", dir.File("out"));
        Assert.Equal(1, code);
        Assert.Contains("truncated", stderr);

        (code, _, stderr) = CliRunner.Run("import", dir.File("x.onnx"), "-o", dir.File("out"));
        Assert.Equal(2, code);
        Assert.Contains("--format", stderr);

        (code, _, stderr) = CliRunner.Run("generate", "--model", dir.Path, "--local");
        Assert.Equal(1, code);
        Assert.Contains("config.json", stderr);

        (code, _, stderr) = CliRunner.Run("generate", "--model", dir.Path);
        Assert.Equal(2, code);
        Assert.Contains("--local", stderr);
    }
}
