using Cleave.Codecs;

namespace Cleave.Cli.Infrastructure;

/// <summary>Picks the verb from the leading words, runs it, and turns expected failures into messages and exit codes.</summary>
public static class CommandDispatcher
{
    public static int Run(IReadOnlyList<ICommand> commands, string[] args)
    {
        // Longest match first, so "codec bench" wins over a hypothetical "codec".
        var match = commands
            .Select(c => (command: c, words: c.Name.Split(' ')))
            .Where(c => c.words.Length <= args.Length && c.words.SequenceEqual(args.Take(c.words.Length)))
            .OrderByDescending(c => c.words.Length)
            .FirstOrDefault();

        if (match.command is null)
        {
            if (args.Length > 0 && args[0] is not ("--help" or "-h" or "help"))
                Console.Error.WriteLine($"cleave: unknown command '{string.Join(' ', args.Take(2))}'");
            PrintHelp(commands);
            return args.Length == 0 || args[0] is "--help" or "-h" or "help" ? 0 : 2;
        }

        var rest = args.Skip(match.words.Length).ToArray();
        if (rest.Contains("--help") || rest.Contains("-h"))
        {
            Console.WriteLine(match.command.Usage);
            return 0;
        }

        try
        {
            return match.command.Run(rest);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"cleave {match.command.Name}: {e.Message}");
            Console.Error.WriteLine(match.command.Usage);
            return 2;
        }
        catch (Exception e) when (e is FrameFormatException or IOException or InvalidDataException or NotSupportedException
            or UnauthorizedAccessException or ArgumentException or InvalidOperationException or FormatException
            or Cleave.Runtime.SplitInferenceException or Grpc.Core.RpcException { StatusCode: Grpc.Core.StatusCode.Unauthenticated })
        {
            string hint = e is Cleave.Runtime.SplitInferenceException { ServerUnreachable: true } ? "; is 'cleave serve' running?" : "";
            Console.Error.WriteLine($"cleave {match.command.Name}: {e.Message}{hint}");
            return 1;
        }
    }

    private static void PrintHelp(IReadOnlyList<ICommand> commands)
    {
        Console.WriteLine("usage: cleave <command> [options]   (cleave <command> --help for details)");
        Console.WriteLine();
        var listed = commands.Where(c => !c.Hidden).ToList();
        int width = listed.Count == 0 ? 0 : listed.Max(c => c.Name.Length);
        foreach (var c in listed)
            Console.WriteLine($"  {c.Name.PadRight(width)}  {c.Summary}");
    }
}
