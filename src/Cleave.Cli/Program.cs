using Cleave.Cli.Commands;
using Cleave.Cli.Infrastructure;

// Every verb is one class in Commands/; add it here to make it reachable.
ICommand[] commands =
[
    new VersionCommand(),
    new InspectCommand(),
    new SplitCommand(),
];

return CommandDispatcher.Run(commands, args);
