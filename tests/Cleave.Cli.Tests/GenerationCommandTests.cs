using System.Text.Json;
using Cleave.Runtime.Generation;

namespace Cleave.Cli.Tests;

public sealed class GenerationCommandTests
{
    private static string ImportStories(TempFolder dir)
    {
        string checkpoint = TestAssets.Path("llm/stories260K.bin"), tokenizer = TestAssets.Path("llm/tok512.bin");
        string model = dir.File("stories");
        var (code, _, stderr) = CliRunner.Run("import", checkpoint, "--tokenizer", tokenizer, "-o", model, "--splits");
        Assert.True(code == 0, stderr);
        return model;
    }

    private static int[] Tokens(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32())];
    }

    [AssetFact("llm/stories260K.bin", "llm/tok512.bin")]
    public async Task Generate_split_locally_and_against_a_server_equals_whole_model_generation()
    {
        using var dir = new TempFolder();
        string model = ImportStories(dir);

        var (code, stdout, stderr) = CliRunner.Run("generate", "--model", model, "--local", "--max-tokens", "30", "--prompt", "Tim and his dog", "--json");
        Assert.True(code == 0, stderr);
        int[] whole = Tokens(stdout);

        (code, stdout, stderr) = CliRunner.Run("generate", "--model", model, "--local", "--split-layer", "3", "--max-tokens", "30", "--prompt", "Tim and his dog", "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal(whole, Tokens(stdout));

        await using var server = await GenerationServer.StartAsync(new GenerationOptions { ModelDirectory = model, SplitLayer = 3 });
        (code, stdout, stderr) = CliRunner.Run("generate", "--model", model, "--server", server.Address.ToString(), "--split-layer", "3",
            "--max-tokens", "30", "--prompt", "Tim and his dog");
        Assert.True(code == 0, stderr);
        Assert.StartsWith("Tim and his dog", stdout, StringComparison.Ordinal);
        Assert.Contains("bits/token", stderr);
        Assert.Contains("server", stderr);

        (code, _, stderr) = CliRunner.Run("generate", "--model", model, "--server", server.Address.ToString(), "--max-tokens", "3");
        Assert.Equal(2, code);
        Assert.Contains("--split-layer", stderr);

        // A server that is gone and never comes back: retried until the deadline, then one error line and exit 1.
        Uri gone;
        await using (var stopped = await GenerationServer.StartAsync(new GenerationOptions { ModelDirectory = model, SplitLayer = 3 })) gone = stopped.Address;
        (code, _, stderr) = CliRunner.Run("generate", "--model", model, "--server", gone.ToString(), "--split-layer", "3", "--max-tokens", "5", "--deadline-ms", "1000");
        Assert.Equal(1, code);
        Assert.Contains($"cleave generate: cannot reach {gone.ToString().TrimEnd('/')}: connection refused; is 'cleave serve-lm' running?", stderr);
        Assert.DoesNotContain("   at ", stderr); // no stack trace
    }

    [AssetFact("llm/stories260K.bin", "llm/tok512.bin", "llm/tinystories_sample.txt")]
    public void Eval_lm_reports_perplexity_and_bits_per_token_for_each_codec()
    {
        using var dir = new TempFolder();
        string model = ImportStories(dir);
        string text = TestAssets.Path("llm/tinystories_sample.txt");

        var (code, stdout, stderr) = CliRunner.Run("eval-lm", "--model", model, "--text", text, "--limit", "1", "--split-layer", "2",
            "--codecs", "raw;tq:levels=24,clip=5", "--calibration-tokens", "256", "--plot", dir.File("curve.png"), "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var results = doc.RootElement.GetProperty("results");
        Assert.Equal(2, results.GetArrayLength());
        var raw = results[0];
        var tq = results[1];
        Assert.Equal(0, raw.GetProperty("perplexity_change").GetDouble(), 6);
        Assert.True(raw.GetProperty("bits_per_token").GetDouble() > 64 * 32);
        Assert.True(tq.GetProperty("bits_per_token").GetDouble() < 64 * 32 / 8.0);
        Assert.InRange(tq.GetProperty("perplexity_change").GetDouble(), -0.05, 0.05);
        Assert.True(tq.GetProperty("state_bytes_per_session").GetInt32() > 0);
        Assert.True(new FileInfo(dir.File("curve.png")).Length > 1000);

        (code, _, stderr) = CliRunner.Run("eval-lm", "--model", model, "--text", text, "--split-layer", "9");
        Assert.Equal(2, code);
        Assert.Contains("1..4", stderr);
    }

    [AssetFact("llm/stories260K.bin", "llm/tok512.bin", "llm/tinystories_sample.txt")]
    public void Import_writes_prediction_tables_and_eval_lm_measures_the_predicting_codec()
    {
        using var dir = new TempFolder();
        string model = dir.File("stories");
        var (code, _, stderr) = CliRunner.Run("import", TestAssets.Path("llm/stories260K.bin"), "--tokenizer", TestAssets.Path("llm/tok512.bin"),
            "-o", model, "--splits", "--prediction-tokens", "1024");
        Assert.True(code == 0, stderr);
        foreach (int k in new[] { 1, 2, 3, 4 }) Assert.Equal(65_936, new FileInfo(TokenPredictionTableFile.PathOf(model, k)).Length);
        string text = TestAssets.Path("llm/tinystories_sample.txt");

        (code, string stdout, stderr) = CliRunner.Run("eval-lm", "--model", model, "--text", text, "--limit", "1", "--split-layer", "2",
            "--codecs", "tq:levels=24,clip=5;tq:levels=7,clip=3.6,predict=token", "--calibration-tokens", "256", "--json");
        Assert.True(code == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            var results = doc.RootElement.GetProperty("results");
            var plain = results[0];
            var predicted = results[1];
            Assert.False(plain.GetProperty("predicted_from_input_tokens").GetBoolean());
            Assert.True(predicted.GetProperty("predicted_from_input_tokens").GetBoolean());
            Assert.Equal(65_936, predicted.GetProperty("model_data_bytes").GetInt64());
            Assert.True(predicted.GetProperty("bits_per_token").GetDouble() < 0.7 * plain.GetProperty("bits_per_token").GetDouble());
            Assert.True(predicted.GetProperty("state_bytes_per_session").GetInt32() < 48);
            Assert.InRange(predicted.GetProperty("perplexity_change").GetDouble(), -0.05, 0.05);
        }

        // Without the split's table the predicting codec is one error line naming the file and how to write it.
        File.Delete(TokenPredictionTableFile.PathOf(model, 2));
        (code, _, stderr) = CliRunner.Run("eval-lm", "--model", model, "--text", text, "--limit", "1", "--split-layer", "2",
            "--codecs", "tq:levels=7,clip=3.6,predict=token");
        Assert.Equal(1, code);
        Assert.Contains("predict_2.bin", stderr);
        Assert.Contains("--prediction-tokens", stderr);
        (code, _, stderr) = CliRunner.Run("import", TestAssets.Path("llm/stories260K.bin"), "--tokenizer", TestAssets.Path("llm/tok512.bin"),
            "-o", dir.File("other"), "--prediction-tokens", "1024");
        Assert.Equal(2, code);
        Assert.Contains("--splits", stderr);
    }
}
