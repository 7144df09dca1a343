namespace Cleave.Cli.Tests;

/// <summary>What a new user types first: a group word, a capitalised verb, a typo, the other verb's option name.</summary>
public sealed class CommandDispatchTests
{
    [Theory]
    [InlineData("codec")]
    [InlineData("codec", "--help")]
    public void A_group_word_lists_its_subcommands(params string[] args)
    {
        var (code, stdout, stderr) = CliRunner.Run(args);
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.StartsWith("usage: cleave codec <subcommand>", stdout, StringComparison.Ordinal);
        foreach (string sub in new[] { "bench", "encode", "decode", "ncols", "study" })
            Assert.Contains($"codec {sub}", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("demo", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_verb_with_subcommands_lists_them_in_its_help()
    {
        var (code, stdout, _) = CliRunner.Run("plan", "--help");
        Assert.Equal(0, code);
        Assert.Contains("subcommands:", stdout, StringComparison.Ordinal);
        Assert.Contains("cleave plan check", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Verbs_are_case_insensitive()
    {
        var (code, stdout, stderr) = CliRunner.Run("Version");
        Assert.True(code == 0, stderr);
        Assert.Equal(CliRunner.Run("version").Out, stdout);
        (code, stdout, _) = CliRunner.Run("CODEC", "Bench", "--help");
        Assert.Equal(0, code);
        Assert.StartsWith("usage: cleave codec bench", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("inspct", "did you mean 'inspect'?")]
    [InlineData("lodtest", "did you mean 'loadtest'?")]
    [InlineData("codec bnech", "did you mean 'codec bench'?")]
    [InlineData("plan chek", "did you mean 'plan check'?")]
    public void An_unknown_verb_names_the_nearest_one_in_one_line(string typed, string expected)
    {
        var (code, stdout, stderr) = CliRunner.Run(typed.Split(' '));
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.Single(Lines(stderr));
    }

    [Fact]
    public void A_word_far_from_every_verb_gets_the_list()
    {
        var (code, _, stderr) = CliRunner.Run("xyzzyplugh");
        Assert.Equal(2, code);
        Assert.Contains("unknown command 'xyzzyplugh'; the commands are:", stderr, StringComparison.Ordinal);
        Assert.Contains("inspect", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_option_names_the_nearest_one()
    {
        var (code, _, stderr) = CliRunner.Run("eval", "--modle", "m.onnx", "--data", "images");
        Assert.Equal(2, code);
        Assert.StartsWith("cleave eval: unknown option --modle; did you mean --model?", stderr, StringComparison.Ordinal);
        // The synopsis and a pointer to --help follow, not every option's description.
        Assert.InRange(Lines(stderr).Length, 2, 6);
        Assert.Contains("cleave eval --help", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Singular_and_plural_option_names_are_one_option()
    {
        // eval knows --codec and --baseline; --codecs reaches the same check (a codec needs a cut).
        var (code, _, stderr) = CliRunner.Run("eval", "--model", "m.onnx", "--data", "images", "--codecs", "raw");
        Assert.Equal(2, code);
        Assert.Contains("--codec applies at a cut", stderr, StringComparison.Ordinal);
        // sweep knows --splits, --codecs, --baselines; the singular forms parse (and the grid's own check answers).
        (code, _, stderr) = CliRunner.Run("sweep", "--model", "m.onnx", "--data", "images", "--baseline", "jpeg:q=banana");
        Assert.Equal(2, code);
        Assert.DoesNotContain("unknown option", stderr, StringComparison.Ordinal);
        // split calls the cut --at; --split is accepted there too (it gets as far as reading the model).
        using var dir = new TempFolder();
        (code, _, stderr) = CliRunner.Run("split", dir.File("missing.onnx"), "--split", "t", "-o", dir.File("out"));
        Assert.Equal(1, code);
        Assert.Contains("does not exist", stderr, StringComparison.Ordinal);
        // A declared option is never re-read as its twin: serve's --splits stays the one that goes with --plan.
        (code, _, stderr) = CliRunner.Run("serve", "--splits", dir.Path, "--port", "0");
        Assert.Equal(2, code);
        Assert.Contains("--splits goes with --plan", stderr, StringComparison.Ordinal);
    }

    internal static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
