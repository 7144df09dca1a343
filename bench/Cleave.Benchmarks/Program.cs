using BenchmarkDotNet.Running;

// Run a subset with: dotnet run -c Release --project bench/Cleave.Benchmarks -- --filter '*Rans*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
