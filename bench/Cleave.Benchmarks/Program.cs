using BenchmarkDotNet.Running;
using Cleave.Benchmarks;

// Run a subset with: dotnet run -c Release --project bench/Cleave.Benchmarks -- --filter '*Rans*'
// The rANS scale-bits sweep (interleaved best-of-N, robust on a shared machine): ... -- rans-sweep
// Server request path, before/after the copy removal (MemoryDiagnoser): ... -- --filter '*ServerRequestPath*'
// Whether batching makes a split's tail cheaper per sample: ... -- tail-batch SPLIT_DIR [threads] [rounds]
if (args is ["rans-sweep"])
{
    RansScaleBitsSweep.Run();
    return;
}
if (args is ["tail-batch", var splitDirectory, ..])
{
    TailBatchSweep.Run(splitDirectory, args.Length > 2 ? int.Parse(args[2]) : 0, args.Length > 3 ? int.Parse(args[3]) : 11);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
