using System.Text.Json;
using System.Text.RegularExpressions;
using Cleave.Cluster.Sessions;
using Cleave.Runtime.Client;
using Cleave.Runtime.Serving;
using Cleave.Runtime.Tests;

namespace Cleave.Cluster.Tests;

/// <summary>
/// docs/grafana/cleave-dashboard.json is valid JSON, and every metric its queries name is one a silo's real
/// <c>/metrics</c> writes: a split server labelled and extended as <c>SiloFrontEnd</c> does (silo label, session counters).
/// </summary>
public sealed partial class GrafanaDashboardTests
{
    private static string RepositoryFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Cleave.slnx"))) return Path.Combine(dir.FullName, relative);
        throw new FileNotFoundException($"no Cleave.slnx above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"\b((?:cleave|process|dotnet)_[a-z0-9_]+)")]
    private static partial Regex MetricName();

    [Fact]
    public async Task Every_metric_the_dashboard_queries_is_in_a_silos_metrics()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(RepositoryFile("docs/grafana/cleave-dashboard.json")));
        var root = dashboard.RootElement;
        var panels = root.GetProperty("panels").EnumerateArray().ToList();
        var titles = panels.Select(p => p.GetProperty("title").GetString()!).ToList();
        foreach (string wanted in new[] { "Requests per second", "latency percentiles", "Batch size", "Queue depth", "Refusals", "Sessions" })
            Assert.Contains(titles, t => t.Contains(wanted, StringComparison.OrdinalIgnoreCase));
        Assert.Contains(root.GetProperty("templating").GetProperty("list").EnumerateArray(), v => v.GetProperty("name").GetString() == "silo");
        var queried = panels.SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .SelectMany(t => MetricName().Matches(t.GetProperty("expr").GetString()!).Select(m => m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(queried);

        // What a silo's front end serves: its split server's metrics with the silo label and the session counters.
        var split = TinySplit.Load();
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1 });
        server.Metrics.SiloLabel = "silo-1";
        server.Metrics.MoreMetrics = new SessionCounters().ToPrometheusText;
        await using (var client = await SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, ManifestHash = split.ManifestHash }))
            await client.InferAsync(TinySplit.Frames(1, seed: 3)[0]);
        using var http = new HttpClient(new SocketsHttpHandler())
        {
            DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        string text = await http.GetStringAsync(new Uri(server.Url, "/metrics"));
        // Sample names, and the families declared by "# TYPE" (a counter by code has no sample before the first error).
        var series = text.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => l[..l.IndexOfAny(['{', ' '])])
            .Concat(text.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]))
            .ToHashSet(StringComparer.Ordinal);
        foreach (string name in queried) Assert.True(series.Contains(name), $"the dashboard queries {name}, which /metrics does not write");
        Assert.Contains("cleave_server_info{silo=\"silo-1\",server_id=", text, StringComparison.Ordinal); // the $silo variable's source
    }
}
