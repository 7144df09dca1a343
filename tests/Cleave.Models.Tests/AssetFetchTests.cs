using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Cleave.Models.Assets;

namespace Cleave.Models.Tests;

/// <summary>
/// `cleave assets fetch` against a real HTTP server on a loopback port that serves the shared assets folder (with
/// range requests, as GitHub's raw server does) and can misbehave on purpose: a corrupted file is refused and deleted,
/// a download cut off half way fails, keeps its .part and resumes from it with a range request.
/// </summary>
public sealed class AssetFetchTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("cleave-assets-fetch-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void The_manifest_covers_the_shared_assets_with_pinned_sources()
    {
        Assert.True(UpstreamAsset.All.Count > 1000);
        Assert.All(UpstreamAsset.All, a =>
        {
            Assert.Matches("^[0-9a-f]{64}$", a.Sha256);
            Assert.True(a.Downloadable || a.Source is UpstreamAsset.NoSource or UpstreamAsset.DerivedWnids, a.Source);
            Assert.All(a.Groups, g => Assert.Contains(g, UpstreamAsset.KnownGroups));
        });
        Assert.Contains(AssetFetcher.Select(["demo"]), a => a.Path == "vision/mobilenet_v2_1.0_224_quant.tflite");
        Assert.Equal(1000, AssetFetcher.Select(["demo"]).Count(a => a.Path.StartsWith("imagenet-sample/", StringComparison.Ordinal)));
        Assert.Throws<ArgumentException>(() => AssetFetcher.Select(["pictures"]));
    }

    [AssetFact("llm/stories260K.bin", "llm/tok512.bin")]
    public async Task A_fetch_verifies_refuses_a_corrupted_file_and_resumes_a_cut_off_one()
    {
        await using var mirror = new MisbehavingMirror(TestAssets.Root!);
        using var http = new HttpClient();
        var fetcher = new AssetFetcher(http);
        var options = new AssetFetchOptions { Destination = _folder, Groups = ["llm"], Mirror = mirror.Url, StallTimeout = TimeSpan.FromSeconds(30) };
        string model = Path.Combine(_folder, "llm", "stories260K.bin"), tokenizer = Path.Combine(_folder, "llm", "tok512.bin");

        mirror.Corrupt.Add("llm/stories260K.bin");
        mirror.CutOffOnce.Add("llm/tok512.bin");
        var first = await fetcher.FetchAsync(options);
        Assert.False(first.Complete);
        Assert.Contains(first.Failures, f => f.Path == "llm/stories260K.bin" && f.Reason.Contains("SHA-256 differs", StringComparison.Ordinal));
        Assert.Contains(first.Failures, f => f.Path == "llm/tok512.bin" && f.Reason.Contains("run again to resume", StringComparison.Ordinal));
        Assert.False(File.Exists(model));
        Assert.False(File.Exists(model + ".part"));
        Assert.False(File.Exists(tokenizer));
        long partial = new FileInfo(tokenizer + ".part").Length;
        Assert.InRange(partial, 1, 6226);
        Assert.Contains("llm/tinystories_sample.txt", first.NoUpstream);
        Assert.False(File.Exists(Path.Combine(_folder, AssetCache.MarkerFile)));

        mirror.Corrupt.Clear();
        var second = await fetcher.FetchAsync(options);
        Assert.True(second.Complete, string.Join("; ", second.Failures));
        Assert.Equal(2, second.Downloaded);
        Assert.Equal(1, second.Resumed);
        Assert.Contains($"llm/tok512.bin bytes={partial}-", mirror.Ranges);
        Assert.Equal(File.ReadAllBytes(TestAssets.Path("llm", "tok512.bin")), File.ReadAllBytes(tokenizer));
        Assert.Equal(File.ReadAllBytes(TestAssets.Path("llm", "stories260K.bin")), File.ReadAllBytes(model));
        Assert.True(File.Exists(Path.Combine(_folder, AssetCache.MarkerFile)));

        var third = await fetcher.FetchAsync(options);
        Assert.Equal((2, 0), (third.AlreadyPresent, third.Downloaded));
    }

    [AssetFact("llm/tok512.bin")]
    public async Task A_server_that_sends_more_than_the_manifest_lists_is_refused()
    {
        await using var mirror = new MisbehavingMirror(TestAssets.Root!);
        mirror.Oversize.Add("llm/tok512.bin");
        using var http = new HttpClient();
        var report = await new AssetFetcher(http).FetchAsync(new AssetFetchOptions { Destination = _folder, Groups = ["llm"], Mirror = mirror.Url });
        Assert.Contains(report.Failures, f => f.Path == "llm/tok512.bin" && f.Reason.Contains("sent more than", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(_folder, "llm", "tok512.bin.part")));
    }

    /// <summary>An HTTP server on 127.0.0.1 serving a folder, with range requests and chosen misbehaviour per path.</summary>
    private sealed class MisbehavingMirror : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly string _root;
        private readonly Task _loop;

        public MisbehavingMirror(string root)
        {
            _root = root;
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                Url = new Uri($"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/");
            }
            _listener.Prefixes.Add(Url.ToString());
            _listener.Start();
            _loop = Task.Run(LoopAsync);
        }

        public Uri Url { get; }
        public ConcurrentBag<string> Corrupt { get; } = [];
        public ConcurrentBag<string> CutOffOnce { get; } = [];
        public ConcurrentBag<string> Oversize { get; } = [];
        public ConcurrentBag<string> Ranges { get; } = [];

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await _listener.GetContextAsync(); }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
                try { await ServeAsync(context); }
                catch (Exception e) when (e is HttpListenerException or IOException) { /* the client went away */ }
            }
        }

        private async Task ServeAsync(HttpListenerContext context)
        {
            string path = Uri.UnescapeDataString(context.Request.Url!.AbsolutePath.TrimStart('/'));
            string file = Path.Combine(_root, path);
            var response = context.Response;
            if (!File.Exists(file)) { response.StatusCode = 404; response.Close(); return; }
            byte[] bytes = await File.ReadAllBytesAsync(file);
            if (Corrupt.Contains(path)) bytes[bytes.Length / 2] ^= 0x40;
            if (Oversize.Contains(path)) bytes = [.. bytes, .. new byte[100]];
            long from = 0;
            if (context.Request.Headers["Range"] is { } range && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
            {
                from = long.Parse(range[6..^1], System.Globalization.CultureInfo.InvariantCulture);
                Ranges.Add($"{path} {range}");
                response.StatusCode = 206;
                response.AddHeader("Content-Range", $"bytes {from}-{bytes.Length - 1}/{bytes.Length}");
            }
            response.ContentLength64 = bytes.Length - from;
            if (CutOffOnce.Contains(path))
            {
                CutOffOnce.Clear();
                await response.OutputStream.WriteAsync(bytes.AsMemory((int)from, (bytes.Length - (int)from) / 2));
                await response.OutputStream.FlushAsync();
                response.Abort(); // the connection drops half way
                return;
            }
            await response.OutputStream.WriteAsync(bytes.AsMemory((int)from));
            response.Close();
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            await _loop;
        }
    }
}
