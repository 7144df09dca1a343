using Cleave.Runtime.Load;
using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Tests;

/// <summary>
/// A load test reads each server's /metrics by series name; a cluster silo adds a <c>silo</c> label to every sample,
/// which made every server-side figure of a load test against silos read as zero. The snapshot drops that label.
/// </summary>
public sealed class MetricsSnapshotTests
{
    private const string Text = "# HELP a x\n# TYPE a counter\ncleave_server_info{server_id=\"abc\"} 1\n" +
        "cleave_requests_executed_total{mode=\"split\"} 7\nprocess_cpu_seconds_total 2.5\n";

    [Theory]
    [InlineData("127.0.0.1:11111@1")]
    [InlineData("odd \"silo\" \\ name,}")]
    public void A_silos_readings_parse_like_a_single_servers(string silo)
    {
        var plain = MetricsSnapshot.Parse(Text);
        var labelled = MetricsSnapshot.Parse(ServerMetrics.WithLabel(Text, "silo", silo));
        Assert.Equal(plain.Samples.OrderBy(p => p.Key, StringComparer.Ordinal), labelled.Samples.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(7, labelled["cleave_requests_executed_total{mode=\"split\"}"]);
        Assert.Equal(2.5, labelled["process_cpu_seconds_total"]);
        Assert.Equal("abc", ServerProcessTracker.ServerIdOf(labelled));
    }

    [Fact]
    public void Other_labels_and_malformed_silo_labels_are_left_alone()
    {
        var snapshot = MetricsSnapshot.Parse("x{mode=\"split\",silo=\"s\"} 1\ny{silo=\"unterminated 2\nz{silo=\"s\"x} 3\n");
        Assert.Equal(1, snapshot["x{mode=\"split\",silo=\"s\"}"]);
        Assert.Equal(3, snapshot["z{silo=\"s\"x}"]);
    }
}
