using System.Net.Sockets;
using Cleave.Codecs;
using Grpc.Core;

namespace Cleave.Cli.Infrastructure;

/// <summary>
/// The failures a verb reports as one line and exit status 1 instead of a stack trace, and the line each gets: a
/// server that cannot be reached names the address, the reason and the command that would start it.
/// </summary>
public static class CliErrors
{
    public static bool IsExpected(Exception e) =>
        e is FrameFormatException or IOException or InvalidDataException or NotSupportedException or UnauthorizedAccessException
            or ArgumentException or InvalidOperationException or FormatException or Cleave.Runtime.SplitInferenceException
            or Cleave.Runtime.Generation.GenerationUnavailableException or HttpRequestException
            or RpcException { StatusCode: StatusCode.Unauthenticated or StatusCode.Unavailable }
        || Unreachable(e) is not null;

    /// <param name="server">The --server value of the command line, if any: named when the server cannot be reached.</param>
    /// <param name="serveCommand">The verb that starts the server this one talks to (serve, serve-lm).</param>
    public static string Describe(Exception e, string? server, string serveCommand)
    {
        string hint = $"; is 'cleave {serveCommand}' running?";
        if (e is Cleave.Runtime.SplitInferenceException { ServerUnreachable: true }) return e.Message + hint;
        if (Unreachable(e) is { } reason) return $"cannot reach {server ?? "the server"}: {reason}{hint}";
        // gRPC's balancer can report "Error connecting to subchannel" without the socket error: ask the socket directly.
        if (server is not null && Causes(e).Any(c => c is RpcException { StatusCode: StatusCode.Unavailable }) && Probe(server) is { } probed)
            return $"cannot reach {server}: {probed}{hint}";
        if (e is UnauthorizedAccessException && FolderNamedIn(e.Message) is { } folder)
            return $"'{folder}' is a folder; a file was expected there";
        return e.Message;
    }

    /// <summary>Why a connection failed (connection refused, host not found, ...), when that is what <paramref name="e"/> is about.</summary>
    public static string? Unreachable(Exception e)
    {
        foreach (var cause in Causes(e))
            if (cause is SocketException s)
                return s.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "connection refused",
                    SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
                    SocketError.TimedOut => "connection timed out",
                    SocketError.NetworkUnreachable or SocketError.HostUnreachable => "network unreachable",
                    _ => s.Message,
                };
        return null;
    }

    /// <summary>Why a TCP connection to <paramref name="server"/> fails now (null when it connects or the address is odd).</summary>
    private static string? Probe(string server)
    {
        if (!Uri.TryCreate(server, UriKind.Absolute, out var uri)) return null;
        try
        {
            using var socket = new TcpClient();
            // A deadline: an address that drops packets must not hang the error message.
            if (!socket.ConnectAsync(uri.Host, uri.Port).Wait(TimeSpan.FromSeconds(2))) return "connection timed out";
            return null;
        }
        catch (AggregateException a) { return Unreachable(a); }
        catch (SocketException s) { return Unreachable(s); }
    }

    private static IEnumerable<Exception> Causes(Exception e)
    {
        // gRPC keeps the transport's exception beside the status rather than as the inner exception.
        var pending = new Stack<Exception>([e]);
        int seen = 0;
        while (pending.Count > 0 && seen++ < 32)
        {
            var c = pending.Pop();
            yield return c;
            if (c.InnerException is { } inner) pending.Push(inner);
            if (c is RpcException { Status.DebugException: { } debug }) pending.Push(debug);
            if (c is AggregateException a) foreach (var x in a.InnerExceptions) pending.Push(x);
        }
    }

    /// <summary>The quoted path in an access-denied message when it is a folder (opening a folder as a file reports access denied).</summary>
    private static string? FolderNamedIn(string message)
    {
        int start = message.IndexOf('\'');
        int end = start < 0 ? -1 : message.IndexOf('\'', start + 1);
        if (end <= start) return null;
        string path = message[(start + 1)..end];
        return Directory.Exists(path) ? path : null;
    }
}
