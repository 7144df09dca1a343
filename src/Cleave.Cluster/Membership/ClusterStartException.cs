namespace Cleave.Cluster.Membership;

/// <summary>A silo could not start or join: the message says what to fix (Redis unreachable, a port in use, another cluster).</summary>
public sealed class ClusterStartException(string message, Exception? inner = null) : InvalidOperationException(message, inner);
