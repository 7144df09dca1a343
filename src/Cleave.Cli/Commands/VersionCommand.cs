using System.Reflection;
using Cleave.Cli.Infrastructure;

namespace Cleave.Cli.Commands;

public sealed class VersionCommand : ICommand
{
    public string Name => "version";
    public string Summary => "print the program and runtime versions";
    public string Usage => "usage: cleave version";

    public int Run(IReadOnlyList<string> args)
    {
        _ = new CommandLine(args, [], []);
        var version = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        Console.WriteLine($"cleave {version} (.NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier})");
        return 0;
    }
}
