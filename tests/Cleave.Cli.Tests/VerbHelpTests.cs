using System.Text.RegularExpressions;
using Cleave.Cli.Infrastructure;

namespace Cleave.Cli.Tests;

/// <summary>Every verb's --help, as `cleave VERB --help` prints it: every option of its usage line described, examples at the end.</summary>
public sealed partial class VerbHelpTests
{
    public static TheoryData<string> Verbs()
    {
        var data = new TheoryData<string>();
        foreach (var type in typeof(Cleave.Cli.Commands.VersionCommand).Assembly.GetTypes()
                     .Where(t => typeof(ICommand).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false }))
            data.Add(((ICommand)Activator.CreateInstance(type)!).Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Verbs))]
    public void Help_ends_with_runnable_examples_that_use_the_shared_assets_layout(string verb)
    {
        var (code, stdout, _) = CliRunner.Run([.. verb.Split(' '), "--help"]);
        Assert.Equal(0, code);
        int at = stdout.IndexOf("\n" + VerbHelp.ExamplesHeading, StringComparison.Ordinal);
        Assert.True(at > 0, $"`cleave {verb} --help` has no examples section");
        var examples = CommandDispatchTests.Lines(stdout[at..]).Skip(1).ToList();
        Assert.InRange(examples.Count, 1, 3);
        foreach (string example in examples)
        {
            Assert.StartsWith($"cleave {verb.Split(' ')[0]}", example, StringComparison.Ordinal);
            // Every option an example uses is one the verb knows (aliases included): the examples parse.
            foreach (Match m in OptionPattern().Matches(example))
                Assert.True(Mentions(stdout[..at], m.Groups[1].Value),
                    $"`{example}` uses --{m.Groups[1].Value}, which `cleave {verb} --help` does not describe");
            if (example.Contains("shared", StringComparison.Ordinal)) Assert.Contains("../shared/assets/", example, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Verbs))]
    public void Every_option_in_the_usage_line_is_described(string verb)
    {
        var (_, stdout, _) = CliRunner.Run([.. verb.Split(' '), "--help"]);
        string synopsis = VerbHelp.Synopsis(stdout);
        var body = CommandDispatchTests.Lines(stdout[synopsis.Length..]);
        var missing = OptionPattern().Matches(synopsis).Select(m => m.Groups[1].Value).Distinct()
            .Where(option => !body.Any(line => Describes(line, option))).ToList();
        Assert.True(missing.Count == 0, $"`cleave {verb} --help` names --{string.Join(", --", missing)} in its usage line without describing it");
    }

    /// <summary>
    /// A line describes an option when the option is in one of its option columns: a stretch of the line (between gaps
    /// of two or more spaces) that starts with an option, e.g. `--epochs E  text   --batch N (default 32)` or
    /// `--rate R --burst B  text`.
    /// </summary>
    private static bool Describes(string line, string option) =>
        Regex.Split(line.Trim(), @"\s{2,}").Any(column => column.StartsWith('-')
            && Regex.IsMatch(column, $@"(^|[\s,/|])--{Regex.Escape(option)}(?![\w-])"));

    /// <summary>The help names the option or its singular/plural twin (which the parser accepts for it).</summary>
    private static bool Mentions(string help, string option) =>
        Regex.IsMatch(help, $@"--{Regex.Escape(option)}(?![\w-])") || Regex.IsMatch(help, $@"--{Regex.Escape(option.EndsWith('s') ? option[..^1] : option + "s")}(?![\w-])");

    [GeneratedRegex(@"(?<![\w-])--([a-z][a-z0-9-]*)")]
    private static partial Regex OptionPattern();
}
