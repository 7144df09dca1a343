using BenchmarkDotNet.Running;
using Cleave.Benchmarks;

// Run a subset with: dotnet run -c Release --project bench/Cleave.Benchmarks -- --filter '*Rans*'
// The rANS scale-bits sweep (interleaved best-of-N, robust on a shared machine): ... -- rans-sweep
if (args is ["rans-sweep"])
{
    RansScaleBitsSweep.Run();
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
