using Cleave.Cluster.FrontEnd;
using Cleave.Cluster.Hosting;
using Cleave.Cluster.Membership;
using Cleave.Runtime.Serving;

namespace Cleave.Cluster.Tests;

/// <summary>Addresses, options and metric labels: what a silo checks before it starts anything.</summary>
public sealed class ClusterInputTests
{
    [Theory]
    [InlineData("redis://127.0.0.1:6380", "127.0.0.1:6380")]
    [InlineData("redis://cache.internal", "cache.internal:6379")]
    public void A_redis_address_becomes_host_and_port(string address, string expected) => Assert.Equal(expected, RedisAddress.Parse(address));

    [Theory]
    [InlineData("127.0.0.1:6379")]
    [InlineData("http://127.0.0.1:6379")]
    [InlineData("redis://127.0.0.1:6379/2")]
    [InlineData("redis://user:secret@127.0.0.1:6379")]
    [InlineData("redis://127.0.0.1:6379?ssl=true")]
    public void Anything_but_redis_host_port_is_refused(string address) => Assert.Throws<ArgumentException>(() => RedisAddress.Parse(address));

    [Fact]
    public void Ports_must_differ_and_be_in_range()
    {
        var good = new ClusterSiloOptions { SiloPort = 11111, GatewayPort = 30000, FrontEnd = new FrontEndOptions { Port = 7070 } };
        good.Validate();
        Assert.Throws<ArgumentException>(() => (good with { GatewayPort = 11111 }).Validate());
        Assert.Throws<ArgumentException>(() => (good with { FrontEnd = new FrontEndOptions { Port = 30000 } }).Validate());
        Assert.Throws<ArgumentException>(() => (good with { SiloPort = 70000 }).Validate());
        Assert.Throws<ArgumentException>(() => (good with { ClusterId = "" }).Validate());
        Assert.Throws<ArgumentException>(() => (good with { Redis = "redis://127.0.0.1:6379", PrimarySiloPort = 11111 }).Validate());
    }

    [Fact]
    public void Every_sample_gets_the_silo_label_and_comments_stay_as_they_are()
    {
        string text = "# HELP a x\n# TYPE a counter\na 1\nb{mode=\"split\"} 2\n";
        Assert.Equal("# HELP a x\n# TYPE a counter\na{silo=\"s\\\"1\"} 1\nb{silo=\"s\\\"1\",mode=\"split\"} 2\n", ServerMetrics.WithLabel(text, "silo", "s\"1"));
    }
}
