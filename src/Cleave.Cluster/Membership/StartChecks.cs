using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Cleave.Cluster.Membership;

/// <summary>
/// What is checked before Orleans starts, so that each bad setup fails at once with one sentence instead of deep in
/// the silo's start (or in an endless retry): a port already taken, Redis unreachable, Redis serving another cluster.
/// </summary>
internal static class StartChecks
{
    /// <summary>The key under which a Redis records the one Cleave cluster whose membership it holds.</summary>
    public const string ClusterIdKey = "cleave:cluster-id";

    public static void PortFree(string what, string option, IPAddress address, int port)
    {
        if (port == 0) return;
        try
        {
            using var probe = new TcpListener(address, port);
            probe.Start();
            probe.Stop();
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new ClusterStartException($"the {what} port {port} is in use on {address}: choose another ({option})", e);
        }
    }

    /// <summary>Connects (bounded by <paramref name="timeout"/>) and claims the cluster id; throws when Redis is unreachable or another cluster owns it.</summary>
    public static async Task RedisServesClusterAsync(string redis, string clusterId, TimeSpan timeout)
    {
        string endpoint = RedisAddress.Parse(redis);
        var config = ConfigurationOptions.Parse(endpoint);
        config.AbortOnConnectFail = true;
        config.ConnectTimeout = (int)Math.Clamp(timeout.TotalMilliseconds, 100, int.MaxValue);
        config.ConnectRetry = 1;
        IConnectionMultiplexer connection;
        try
        {
            connection = await ConnectionMultiplexer.ConnectAsync(config).WaitAsync(timeout + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisConnectionException or TimeoutException or SocketException)
        {
            throw new ClusterStartException($"cannot reach Redis at {redis} ({endpoint}): is redis-server running there?", e);
        }
        await using (connection.ConfigureAwait(false))
        {
            var db = connection.GetDatabase();
            await db.StringSetAsync(ClusterIdKey, clusterId, when: When.NotExists).ConfigureAwait(false);
            string? owner = await db.StringGetAsync(ClusterIdKey).ConfigureAwait(false);
            if (owner != clusterId)
                throw new ClusterStartException($"Redis at {redis} holds the membership of cluster '{owner}', this silo was started for cluster '{clusterId}': " +
                    $"give --cluster-id {owner}, or a Redis of its own (one Redis, one Cleave cluster)");
        }
    }
}
