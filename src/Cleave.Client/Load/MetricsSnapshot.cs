using System.Globalization;
using System.Net;

namespace Cleave.Runtime.Load;

/// <summary>
/// One reading of a server's Prometheus <c>/metrics</c>: every sample by its series (name plus labels, exactly as
/// written, e.g. <c>cleave_requests_executed_total{mode="split"}</c>). Two readings bracket a load test.
/// </summary>
public sealed class MetricsSnapshot
{
    private readonly Dictionary<string, double> _samples;

    private MetricsSnapshot(Dictionary<string, double> samples) => _samples = samples;

    public IReadOnlyDictionary<string, double> Samples => _samples;

    /// <summary>No samples: the baseline of a server instance that started during a test (its counters began at zero).</summary>
    public static MetricsSnapshot Empty { get; } = new(new Dictionary<string, double>(StringComparer.Ordinal));

    /// <summary>The sample's value, or 0 when the series is absent.</summary>
    public double this[string series] => _samples.TryGetValue(series, out double v) ? v : 0;

    public static MetricsSnapshot Parse(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            int space = line.LastIndexOf(' ');
            if (space <= 0) continue;
            if (double.TryParse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                samples[WithoutSiloLabel(line[..space])] = value;
        }
        return new MetricsSnapshot(samples);
    }

    /// <summary><c>name{silo="s",rest}</c> -> <c>name{rest}</c>, <c>name{silo="s"}</c> -> <c>name</c>; anything else unchanged.</summary>
    private static string WithoutSiloLabel(string series)
    {
        const string label = "{silo=\"";
        int open = series.IndexOf(label, StringComparison.Ordinal);
        if (open <= 0) return series;
        // The value is quoted with \" and \\ escaped (ServerMetrics.WithLabel): find its closing quote.
        int i = open + label.Length;
        while (i < series.Length && series[i] != '"') i += series[i] == '\\' ? 2 : 1;
        if (i >= series.Length - 1) return series;
        return series[i + 1] switch
        {
            ',' => string.Concat(series.AsSpan(0, open + 1), series.AsSpan(i + 2)),
            '}' => string.Concat(series.AsSpan(0, open), series.AsSpan(i + 2)),
            _ => series,
        };
    }

    /// <summary>
    /// Reads <c>/metrics</c> from the server: HTTP/2 with prior knowledge on cleartext (the gRPC port speaks only
    /// HTTP/2), falling back to HTTP/1.1 for a separate metrics port (<c>serve --metrics-port</c>), which speaks only that.
    /// </summary>
    public static async Task<MetricsSnapshot> FetchAsync(Uri server, bool acceptAnyCertificate = false, CancellationToken cancellationToken = default,
        TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        using var handler = new SocketsHttpHandler();
        if (acceptAnyCertificate) handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        using var http = new HttpClient(handler) { Timeout = timeout ?? TimeSpan.FromSeconds(10) };
        bool tls = server.Scheme == Uri.UriSchemeHttps;
        try { return await FetchAsync(http, server, HttpVersion.Version20, tls ? HttpVersionPolicy.RequestVersionOrLower : HttpVersionPolicy.RequestVersionExact, cancellationToken).ConfigureAwait(false); }
        catch (HttpRequestException) when (!tls && !cancellationToken.IsCancellationRequested)
        {
            return await FetchAsync(http, server, HttpVersion.Version11, HttpVersionPolicy.RequestVersionExact, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<MetricsSnapshot> FetchAsync(HttpClient http, Uri server, Version version, HttpVersionPolicy policy, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server, "/metrics")) { Version = version, VersionPolicy = policy };
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        return Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
    }
}
