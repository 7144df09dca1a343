using System.Text;
using Cleave.Codecs.Entropy;
using Xunit.Abstractions;

namespace Cleave.Codecs.Tests.Entropy;

/// <summary>
/// The size measurements quoted in docs/entropy-coding.md (table cost, overhead over the entropy bound per scale),
/// printed as a table. Run: dotnet test tests/Cleave.Codecs.Tests -c Release --filter RansMeasurements
/// --logger "console;verbosity=detailed"
/// </summary>
public sealed class RansMeasurements(ITestOutputHelper output)
{
    [Fact]
    public void TableCostAndOverheadPerScale()
    {
        var report = new StringBuilder();
        report.AppendLine("| elements | bits | k | entropy B | block B | header+table B | table precision | states B | overhead vs entropy | coder overhead |");
        report.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (int count in new[] { 4096, 1_000_000 })
        foreach (int bits in new[] { 4, 8 })
        {
            byte[] symbols = RansTestData.QuantizedReluLike(count, bits);
            double entropy = EntropyStatistics.Order0Bytes(symbols);
            for (int k = RansCoder.MinScaleBits; k <= RansCoder.MaxScaleBits; k++)
            {
                byte[] encoded = RansTestData.Encode(symbols, 1 << bits, k);
                RansBlockInfo info = RansCoder.ReadBlockInfo(encoded);
                int states = 4 * info.Lanes;
                // Coder overhead: stream bytes beyond the entropy, i.e. what the quantized probabilities and the
                // flushed states cost, apart from the table.
                double coder = (info.StreamBytes - entropy) / entropy;
                report.AppendLine($"| {count} | {bits} | {k} | {entropy:F0} | {encoded.Length} | {info.HeaderBytes} | {info.TablePrecision} | {states} | {(encoded.Length - entropy) / entropy:P2} | {coder:P2} |");
                Assert.True(encoded.Length < entropy * 1.05 + 16);
            }
        }
        output.WriteLine(report.ToString());
    }

    [Fact]
    public void SizeAgainstZstdLevel1()
    {
        var report = new StringBuilder();
        report.AppendLine("| elements | bits | entropy B | rANS B (k=14) | zstd-1 B | zstd-1 / rANS |");
        report.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (int count in new[] { 4096, 1_000_000 })
        foreach (int bits in new[] { 4, 8 })
        {
            byte[] symbols = RansTestData.QuantizedReluLike(count, bits);
            int rans = RansTestData.Encode(symbols, 1 << bits).Length;
            int zstd = new ZstdSharp.Compressor(1).Wrap(symbols).Length;
            report.AppendLine($"| {count} | {bits} | {EntropyStatistics.Order0Bytes(symbols):F0} | {rans} | {zstd} | {(double)zstd / rans:F3} |");
            Assert.True(rans < zstd);
        }
        output.WriteLine(report.ToString());
    }
}
