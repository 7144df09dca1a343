using System.Buffers;
using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Codecs.Entropy;

namespace Cleave.Benchmarks;

/// <summary>
/// Interleaved best-of-N timing of rANS per scale bits k on the 1M 8-bit symbols of <see cref="RansBenchmarks"/>:
/// each round times every k once, so load from other processes hits all k alike, and the minimum per k is kept.
/// On a shared machine this ranks the k values more reliably than separate BenchmarkDotNet runs per parameter.
/// Run: dotnet run -c Release -- rans-sweep
/// </summary>
internal static class RansScaleBitsSweep
{
    public static void Run(int rounds = 40)
    {
        byte[] symbols = RansBenchmarks.Quantize(SyntheticTensors.ReluLike(1_000_000, seed: 1), 8);
        var decoded = new byte[symbols.Length];
        var writer = new ArrayBufferWriter<byte>(4_000_000);
        int[] scales = [10, 11, 12, 13, 14, 15];
        var blocks = new byte[scales.Length][];
        var encodeBest = new double[scales.Length];
        var decodeBest = new double[scales.Length];
        Array.Fill(encodeBest, double.MaxValue);
        Array.Fill(decodeBest, double.MaxValue);
        for (int s = 0; s < scales.Length; s++)
        {
            writer.ResetWrittenCount();
            RansCoder.Encode(symbols, 256, writer, scales[s]);
            blocks[s] = writer.WrittenSpan.ToArray();
        }
        for (int round = 0; round < rounds; round++)
        {
            for (int s = 0; s < scales.Length; s++)
            {
                var watch = Stopwatch.StartNew();
                writer.ResetWrittenCount();
                RansCoder.Encode(symbols, 256, writer, scales[s]);
                encodeBest[s] = Math.Min(encodeBest[s], watch.Elapsed.TotalSeconds);
                watch.Restart();
                RansCoder.Decode(blocks[s], decoded);
                decodeBest[s] = Math.Min(decodeBest[s], watch.Elapsed.TotalSeconds);
            }
        }
        double mebibytes = symbols.Length / 1048576.0;
        double entropy = EntropyStatistics.Order0Bytes(symbols);
        Console.WriteLine($"| k | block bytes | over entropy | encode MiB/s (best of {rounds}) | decode MiB/s (best of {rounds}) |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: |");
        for (int s = 0; s < scales.Length; s++)
            Console.WriteLine($"| {scales[s]} | {blocks[s].Length} | {(blocks[s].Length - entropy) / entropy:P2} | {mebibytes / encodeBest[s]:F0} | {mebibytes / decodeBest[s]:F0} |");
    }
}
