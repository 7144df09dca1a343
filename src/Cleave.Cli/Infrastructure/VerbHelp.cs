using System.Text;

namespace Cleave.Cli.Infrastructure;

/// <summary>
/// A verb's --help: its usage text, the subcommands that share its first word (`plan check` under `plan`), and
/// runnable examples. Examples live in one table beside the verbs (Program.cs passes it) rather than in each verb,
/// so every verb's help ends the same way and a test can hold every verb to it.
/// </summary>
public static class VerbHelp
{
    public const string ExamplesHeading = "examples:";

    /// <summary>The usage lines of a verb's help (`usage: cleave ...` and their continuations), without the option descriptions.</summary>
    public static string Synopsis(string usage)
    {
        var lines = usage.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        int count = 1;
        while (count < lines.Count && lines[count].StartsWith(' ') && lines[count].TrimStart() is var t
               && (t.StartsWith('[') || t.StartsWith("cleave ", StringComparison.Ordinal) || t.StartsWith('(')))
            count++;
        return string.Join('\n', lines.Take(count));
    }

    private static bool DescribesJson(string usage) =>
        usage.Split('\n').Skip(Synopsis(usage).Split('\n').Length).Any(l => l.TrimStart().StartsWith("--json", StringComparison.Ordinal));

    public static string Render(ICommand command, IReadOnlyList<string> examples, IReadOnlyList<ICommand> subcommands)
    {
        var text = new StringBuilder(command.Usage.TrimEnd());
        // --json means the same everywhere; a verb need not spell it out.
        if (Synopsis(command.Usage).Contains("--json", StringComparison.Ordinal) && !DescribesJson(command.Usage))
            text.AppendLine().Append("  --json              print the result as one JSON document on stdout (for scripts) instead of the table");
        if (subcommands.Count > 0)
        {
            text.AppendLine().AppendLine().AppendLine("subcommands:");
            int width = subcommands.Max(c => c.Name.Length);
            foreach (var c in subcommands) text.AppendLine($"  cleave {c.Name.PadRight(width)}  {c.Summary}");
        }
        if (examples.Count > 0)
        {
            // Paths are relative to the repository root, where ../shared/assets holds the shared models and images.
            text.AppendLine().AppendLine().AppendLine($"{ExamplesHeading}   (from the repository root; ../shared/assets holds the shared models)");
            foreach (string example in examples) text.AppendLine($"  {example}");
        }
        return text.ToString().TrimEnd();
    }
}
