using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Cleave.Cluster.Tests;

/// <summary>A fact that needs the stories260K assets and Debian's redis-server: skipped, with the reason shown, without either.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (StoriesModel.AssetRoot is null) Skip = "shared assets not found (../shared/assets or CLEAVE_ASSETS)";
        else if (RedisServer.Unavailable is { } reason) Skip = $"redis-server is not available: {reason}";
    }
}

/// <summary>
/// A real redis-server on a free loopback port, started for one test and killed after it. The binary comes from the
/// repository's <c>.ci/redis-server</c> script (the one <c>.ci/run</c> calls), which installs Debian's package if needed.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private static readonly Lazy<(string? Binary, string? Reason)> Install = new(FindOrInstall);

    private readonly Process _process;

    private RedisServer(Process process, int port)
    {
        _process = process;
        Address = $"redis://127.0.0.1:{port}";
    }

    /// <summary>Why no redis-server can run here (null when one can).</summary>
    public static string? Unavailable => Install.Value.Reason;

    public string Address { get; }

    public static async Task<RedisServer> StartAsync()
    {
        string binary = Install.Value.Binary ?? throw new InvalidOperationException(Unavailable);
        int port = FreePort();
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServer(process, port);
        var deadline = Stopwatch.StartNew();
        while (!await PingsAsync(port))
        {
            if (process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(15))
            {
                server.Dispose();
                throw new InvalidOperationException($"redis-server on port {port} did not answer PING");
            }
            await Task.Delay(50);
        }
        return server;
    }

    /// <summary>A loopback port nothing listens on (the OS's choice, released at once).</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private static async Task<bool> PingsAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token);
            var buffer = new byte[16];
            int read = await stream.ReadAsync(buffer, timeout.Token);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private static (string?, string?) FindOrInstall()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, ".ci", "redis-server"))) dir = dir.Parent;
        if (dir is null) return (null, "the repository's .ci/redis-server script was not found above the test binaries");
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(dir.FullName, ".ci", "redis-server"));
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            return (null, ".ci/redis-server did not finish within 3 minutes");
        }
        string binary = output.Result.Trim();
        return process.ExitCode == 0 && File.Exists(binary) ? (binary, null) : (null, error.Result.Trim() is { Length: > 0 } why ? why : $".ci/redis-server exited {process.ExitCode}");
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        finally
        {
            _process.Dispose();
        }
    }
}
