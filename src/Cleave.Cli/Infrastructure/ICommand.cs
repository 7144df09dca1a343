namespace Cleave.Cli.Infrastructure;

/// <summary>One verb of the <c>cleave</c> program (e.g. <c>codec encode</c>). Holds no logic a library user would need.</summary>
public interface ICommand
{
    /// <summary>The words that select the verb, e.g. "codec encode".</summary>
    string Name { get; }

    /// <summary>One line for the program's help.</summary>
    string Summary { get; }

    /// <summary>Full usage text shown with --help or after a usage error.</summary>
    string Usage { get; }

    /// <summary>
    /// True for verbs kept out of <c>cleave --help</c> (the <c>attack</c> verbs, which probe a server as an attacker
    /// would): they still run, and their own <c>--help</c> works.
    /// </summary>
    bool Hidden => false;

    /// <summary>Runs the verb; returns the process exit code.</summary>
    int Run(IReadOnlyList<string> args);
}
