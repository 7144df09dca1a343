using Cleave.Cli.Infrastructure;

namespace Cleave.Cli.Commands;

/// <summary><c>--server A,B,C</c>: one server address or several (a cluster's silos) that a client fails over among.</summary>
internal static class ServerAddressParsing
{
    public const string Help =
        "  --server URL[,URL...]  the server, or several that answer the same requests (a cluster's silos): a client\n" +
        "                         that cannot reach one moves to the next (round robin, backoff after a whole round)\n" +
        "                         and re-sends every unanswered request there under its idempotency id";

    /// <summary>The comma-separated http:// or https:// addresses of <paramref name="value"/> (at least one).</summary>
    public static IReadOnlyList<Uri> Parse(string value)
    {
        var addresses = new List<Uri>();
        foreach (string address in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            addresses.Add(ParseOne(address));
        return addresses.Count > 0 ? addresses : throw new UsageException("--server needs at least one address");
    }

    /// <summary>One http:// or https:// address; `127.0.0.1:7070` (no scheme) is told what to add.</summary>
    public static Uri ParseOne(string address)
    {
        if (Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https") return uri;
        if (!address.Contains("://", StringComparison.Ordinal))
            throw new UsageException($"--server '{address}' has no scheme: add http:// or https:// (e.g. http://{address})");
        throw new UsageException($"--server '{address}' is not an http:// or https:// address");
    }
}
