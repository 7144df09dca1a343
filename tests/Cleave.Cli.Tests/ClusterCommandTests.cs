using System.Net;
using System.Net.Sockets;

namespace Cleave.Cli.Tests;

/// <summary>The cluster verbs' bad input: one clear message and the documented exit code, at once (silos themselves: tests/Cleave.Cluster.Tests).</summary>
public sealed class ClusterCommandTests
{
    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    [Fact]
    public void Cluster_status_of_an_address_where_nothing_listens_fails_with_exit_1()
    {
        string address = $"http://127.0.0.1:{FreePort()}";
        var (code, _, err) = CliRunner.Run("cluster", "status", "--server", address, "--timeout-ms", "3000");
        Assert.Equal(1, code);
        Assert.Equal($"cleave cluster status: cannot reach {address}: connection refused; is 'cleave serve' running?", err.Trim());
    }

    [Fact]
    public void Cluster_options_without_cluster_and_a_silo_with_nothing_to_serve_are_usage_errors()
    {
        var (code, _, err) = CliRunner.Run("serve", "--full", "m.onnx", "--silo-port", "11111");
        Assert.Equal(2, code);
        Assert.Contains("--silo-port needs --cluster", err, StringComparison.Ordinal);

        (code, _, err) = CliRunner.Run("serve", "--cluster", "dev");
        Assert.Equal(2, code);
        Assert.Contains("a silo needs something to serve", err, StringComparison.Ordinal);

        (code, _, err) = CliRunner.Run("serve", "--lm", "lm", "--lm-split-layer", "2", "--cluster", "http://127.0.0.1:6379");
        Assert.Equal(2, code);
        Assert.Contains("not a Redis address", err, StringComparison.Ordinal);

        (code, _, err) = CliRunner.Run("serve", "--lm", "lm", "--lm-split-layer", "2", "--cluster", "dev", "--silo-port", "9000", "--gateway-port", "9000");
        Assert.Equal(2, code);
        Assert.Contains("must differ", err, StringComparison.Ordinal);
    }
}
