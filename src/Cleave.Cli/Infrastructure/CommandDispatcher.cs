using Cleave.Codecs;

namespace Cleave.Cli.Infrastructure;

/// <summary>Picks the verb from the leading words, runs it, and turns expected failures into messages and exit codes.</summary>
public static class CommandDispatcher
{
    public static int Run(IReadOnlyList<ICommand> commands, string[] args) => Run(commands, args, new Dictionary<string, string[]>());

    /// <param name="examples">Runnable example command lines per verb name, printed at the end of the verb's --help.</param>
    public static int Run(IReadOnlyList<ICommand> commands, string[] args, IReadOnlyDictionary<string, string[]> examples)
    {
        bool askedForHelp = args.Length == 0 || args[0] is "--help" or "-h" or "help";
        if (askedForHelp)
        {
            PrintHelp(commands);
            return 0;
        }

        // Longest match first, so "codec bench" wins over a hypothetical "codec"; verbs are matched case-insensitively
        // (`cleave Inspect` is what a user meant).
        var match = commands
            .Select(c => (command: c, words: c.Name.Split(' ')))
            .Where(c => c.words.Length <= args.Length && c.words.SequenceEqual(args.Take(c.words.Length), StringComparer.OrdinalIgnoreCase))
            .OrderByDescending(c => c.words.Length)
            .FirstOrDefault();

        var group = SubcommandsOf(commands, args[0]);
        if (match.command is null)
            return group.Count > 0 ? GroupHelp(args, group) : UnknownVerb(commands, args[0]);

        var rest = args.Skip(match.words.Length).ToArray();
        if (rest.Contains("--help") || rest.Contains("-h"))
        {
            Console.WriteLine(VerbHelp.Render(match.command, examples.GetValueOrDefault(match.command.Name) ?? [],
                match.words.Length == 1 ? group : []));
            return 0;
        }
        // `cleave plan chek`: a word where a subcommand would go that is neither one nor an argument the verb takes.
        if (match.words.Length == 1 && group.Count > 0 && rest.Length > 0 && !rest[0].StartsWith('-')
            && NearestName.Find($"{args[0]} {rest[0]}", group.Select(c => c.Name)) is { } subcommand
            && !string.Equals(subcommand, $"{args[0]} {rest[0]}", StringComparison.OrdinalIgnoreCase))
        {
            Console.Error.WriteLine($"cleave: unknown command '{args[0]} {rest[0]}'; did you mean '{subcommand}'?");
            return 2;
        }

        try
        {
            return match.command.Run(rest);
        }
        catch (UsageException e)
        {
            // The message and the synopsis, not the whole help: the line that says what is wrong stays in view.
            Console.Error.WriteLine($"cleave {match.command.Name}: {e.Message}");
            Console.Error.WriteLine(VerbHelp.Synopsis(match.command.Usage));
            Console.Error.WriteLine($"(cleave {match.command.Name} --help describes every option, with examples)");
            return 2;
        }
        catch (Exception e) when (CliErrors.IsExpected(e))
        {
            string serveCommand = match.command.Name is "generate" or "eval-lm" ? "serve-lm" : "serve";
            Console.Error.WriteLine($"cleave {match.command.Name}: {CliErrors.Describe(e, ServerOption(rest), serveCommand)}");
            return 1;
        }
    }

    /// <summary>The first address of a --server option, to name it when it cannot be reached.</summary>
    private static string? ServerOption(string[] rest)
    {
        for (int i = 0; i < rest.Length; i++)
        {
            if (rest[i].StartsWith("--server=", StringComparison.Ordinal)) return rest[i]["--server=".Length..].Split(',')[0].TrimEnd('/');
            if (rest[i] == "--server" && i + 1 < rest.Length) return rest[i + 1].Split(',')[0].TrimEnd('/');
        }
        return null;
    }

    /// <summary>The verbs whose first word is <paramref name="word"/> and that have more words (`codec bench` for `codec`).</summary>
    private static List<ICommand> SubcommandsOf(IReadOnlyList<ICommand> commands, string word) =>
        [.. commands.Where(c => !c.Hidden && c.Name.Contains(' ') && c.Name.Split(' ')[0].Equals(word, StringComparison.OrdinalIgnoreCase))];

    /// <summary>`cleave codec`, `cleave codec --help` and `cleave codec bnech`: a group word without (a known) subcommand.</summary>
    private static int GroupHelp(string[] args, List<ICommand> group)
    {
        string word = group[0].Name.Split(' ')[0];
        bool unknown = args.Length > 1 && args[1] is not ("--help" or "-h");
        if (unknown)
        {
            string typed = $"{word} {args[1]}";
            string? near = NearestName.Find(typed, group.Select(c => c.Name));
            Console.Error.WriteLine($"cleave: unknown command '{typed}'" + (near is null ? "; the subcommands are:" : $"; did you mean '{near}'?"));
            if (near is not null) return 2;
        }
        var writer = unknown ? Console.Error : Console.Out;
        writer.WriteLine($"usage: cleave {word} <subcommand> [options]   (cleave {word} <subcommand> --help for details)");
        writer.WriteLine();
        PrintList(writer, group);
        return unknown ? 2 : 0;
    }

    private static int UnknownVerb(IReadOnlyList<ICommand> commands, string typed)
    {
        var names = commands.Where(c => !c.Hidden).Select(c => c.Name.Split(' ')[0]).Distinct(StringComparer.Ordinal).ToList();
        if (typed.StartsWith('-'))
        {
            Console.Error.WriteLine($"cleave: options go after a command: cleave <command> {typed} ...   (cleave --help lists the commands)");
            return 2;
        }
        if (NearestName.Find(typed, names) is { } near)
        {
            Console.Error.WriteLine($"cleave: unknown command '{typed}'; did you mean '{near}'?   (cleave --help lists the commands)");
            return 2;
        }
        Console.Error.WriteLine($"cleave: unknown command '{typed}'; the commands are:");
        PrintList(Console.Error, commands.Where(c => !c.Hidden).ToList());
        return 2;
    }

    private static void PrintHelp(IReadOnlyList<ICommand> commands)
    {
        Console.WriteLine("usage: cleave <command> [options]   (cleave <command> --help for details)");
        Console.WriteLine();
        PrintList(Console.Out, commands.Where(c => !c.Hidden).ToList());
        Console.WriteLine();
        Console.WriteLine("Commands are case-insensitive. Singular and plural option names are one option (--split/--splits,");
        Console.WriteLine("--codec/--codecs, --baseline/--baselines), and --split names the cut where a command calls it --at.");
    }

    private static void PrintList(TextWriter writer, List<ICommand> listed)
    {
        int width = listed.Count == 0 ? 0 : listed.Max(c => c.Name.Length);
        foreach (var c in listed)
            writer.WriteLine($"  {c.Name.PadRight(width)}  {c.Summary}");
    }
}
