using Cleave.Cli.Commands;
using Cleave.Cli.Infrastructure;

// Every verb is one class in Commands/; add it here to make it reachable.
ICommand[] commands =
[
    new CalibrateCommand(),
    new CodecBenchCommand(),
    new CodecEncodeCommand(),
    new CodecDecodeCommand(),
    new CodecNcolsCommand(),
    new CodecStudyCommand(),
    new DemoCommand(),
    new AssetsFetchCommand(),
    new DumpCommand(),
    new EvalCommand(),
    new ImportCommand(),
    new InspectCommand(),
    new PlanCommand(),
    new PlanCheckCommand(),
    new PlanAdaptCommand(),
    new SplitCommand(),
    new TrainBottleneckCommand(),
    new TrainAdapterCommand(),
    new TrainTaskTailCommand(),
    new TrainExitCnnCommand(),
    new TrainFmnistGridCommand(),
    new TrainExitCommand(),
    new TrainGateCommand(),
    new TrainErrorAwareCommand(),
    new SweepCommand(),
    new TrainCommand(),
    new GenerateCommand(),
    new ServeLmCommand(),
    new EvalLmCommand(),
    new ServeCommand(),
    new ClusterStatusCommand(),
    new ClientCommand(),
    new LoadtestCommand(),
    new KeysCommand(),
    new VersionCommand(),
    new AttackFuzzFramesCommand(),
    new AttackFuzzProtocolCommand(),
];

return CommandDispatcher.Run(commands, args, VerbExamples.All);
