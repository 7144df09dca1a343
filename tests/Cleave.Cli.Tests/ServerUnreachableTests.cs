namespace Cleave.Cli.Tests;

/// <summary>Every verb that talks to a server, run with none there: one line naming the address and the fix, exit 1.</summary>
public sealed class ServerUnreachableTests
{
    [Fact]
    public void Loadtest_with_no_server_says_so_in_one_line()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("a.jpg"), [0xFF, 0xD8]); // full mode sends the file as it is
        string dead = NetworkCommandTests.DeadAddress();
        var (code, _, stderr) = CliRunner.Run("loadtest", "--server", dead, "--mode", "full", "--images", dir.Path, "--clients", "1",
            "--duration", "1", "--deadline-ms", "300");
        Assert.Equal(1, code);
        Assert.Equal($"cleave loadtest: cannot reach {dead}: connection refused; is 'cleave serve' running?", CommandDispatchTests.Lines(stderr)[^1]);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [AssetFact("llm/stories260K.bin", "llm/tok512.bin")]
    public void Generate_with_no_server_says_so_in_one_line()
    {
        using var dir = new TempFolder();
        var (code, _, stderr) = CliRunner.Run("import", TestAssets.Path("llm/stories260K.bin"), "--tokenizer", TestAssets.Path("llm/tok512.bin"),
            "-o", dir.File("lm"), "--splits");
        Assert.True(code == 0, stderr);
        string dead = NetworkCommandTests.DeadAddress();
        (code, var stdout, stderr) = CliRunner.Run("generate", "--model", dir.File("lm"), "--server", dead, "--split-layer", "2", "--max-tokens", "2",
            "--prompt", "Once upon a time", "--deadline-ms", "300");
        Assert.Equal(1, code);
        Assert.Equal($"cleave generate: cannot reach {dead}: connection refused; is 'cleave serve-lm' running?", stderr.Trim());
        Assert.Equal("", stdout.Trim()); // the prompt is echoed with the first generated token, never before an error
    }

    [Theory]
    [InlineData("client", "--split", ".", "--images", ".")]
    [InlineData("loadtest", "--mode", "full", "--images", ".")]
    [InlineData("cluster", "status")]
    public void An_address_without_a_scheme_is_told_to_add_one(params string[] args)
    {
        var (code, _, stderr) = CliRunner.Run([.. args, "--server", "127.0.0.1:7999"]);
        Assert.Equal(2, code);
        Assert.Contains("--server '127.0.0.1:7999' has no scheme: add http:// or https:// (e.g. http://127.0.0.1:7999)", stderr, StringComparison.Ordinal);
    }
}
