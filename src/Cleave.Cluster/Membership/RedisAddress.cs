namespace Cleave.Cluster.Membership;

/// <summary>A <c>redis://host:port</c> address as StackExchange.Redis wants it (<c>host:port</c>).</summary>
public static class RedisAddress
{
    public static string Parse(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme != "redis" || string.IsNullOrEmpty(uri.Host))
            throw new ArgumentException($"'{address}' is not a Redis address (redis://host:port)");
        if (uri.AbsolutePath is not ("" or "/") || uri.Query.Length > 0 || uri.UserInfo.Length > 0)
            throw new ArgumentException($"'{address}': give only redis://host:port (no database, user or options)");
        return $"{uri.Host}:{(uri.IsDefaultPort || uri.Port < 0 ? 6379 : uri.Port)}";
    }
}
