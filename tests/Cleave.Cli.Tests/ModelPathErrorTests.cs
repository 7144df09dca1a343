namespace Cleave.Cli.Tests;

/// <summary>The wrong thing given as a model: a split folder, a folder, a text file. One line that says what it is.</summary>
public sealed class ModelPathErrorTests
{
    [Fact]
    public void A_split_folder_given_to_eval_as_the_model_is_named_with_the_option_that_takes_it()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("split.json"), "{}");
        var (code, stdout, stderr) = CliRunner.Run("eval", "--model", dir.Path, "--data", dir.Path);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith($"cleave eval: --model '{dir.Path}' is a split folder: pass it with --split-dir", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("denied", stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_folder_given_as_a_model_file_is_called_a_folder()
    {
        using var dir = new TempFolder();
        var (code, _, stderr) = CliRunner.Run("inspect", dir.Path);
        Assert.Equal(1, code);
        Assert.Equal($"cleave inspect: '{dir.Path}' is a folder, not an ONNX model file", stderr.Trim());
    }

    [Theory]
    [InlineData("inspect")]
    [InlineData("split", "--at", "t", "-o", "out")]
    public void A_text_file_given_as_a_model_says_so_without_parser_words(string verb, params string[] rest)
    {
        using var dir = new TempFolder();
        string notes = dir.File("notes.txt");
        File.WriteAllText(notes, "my notes about models\n");
        var (code, _, stderr) = CliRunner.Run([verb, notes, .. rest.Select(a => a == "out" ? dir.File(a) : a)]);
        Assert.Equal(1, code);
        Assert.Equal($"cleave {verb}: {notes} is not an ONNX model (it is a text file beginning \"my notes about models\"; " +
                     "an .onnx file is binary, from an exporter or `cleave import`)", stderr.Trim());
        Assert.DoesNotContain("message", stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Eval_of_a_text_file_prints_no_progress_and_no_done()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("m.onnx"), "not a model");
        File.WriteAllBytes(dir.File("n01440764_tench.JPEG"), [0xFF, 0xD8]);
        var (code, _, stderr) = CliRunner.Run("eval", "--model", dir.File("m.onnx"), "--data", dir.Path);
        Assert.Equal(1, code);
        Assert.Single(CommandDispatchTests.Lines(stderr));
        Assert.DoesNotContain("done", stderr, StringComparison.Ordinal);
    }
}
