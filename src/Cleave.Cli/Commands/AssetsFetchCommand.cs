using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Models.Assets;

namespace Cleave.Cli.Commands;

public sealed class AssetsFetchCommand : ICommand
{
    public string Name => "assets fetch";
    public string Summary => "download the shared models and images from their pinned upstream commits (SHA-256 checked, resumable)";
    public string Usage =>
        "usage: cleave assets fetch [--to DIR] [--only demo|vision|llm|text[,...]] [--mirror URL] [--json]\n" +
        "  --to DIR       the assets folder to fill (default: the per-user cache every verb looks in after --assets,\n" +
        $"                 CLEAVE_ASSETS and ../shared/assets: {AssetCache.DefaultFolder}; CLEAVE_ASSET_CACHE moves it)\n" +
        "  --only G[,G]   only these groups: demo (MobileNetV2 + the 1000-image ImageNet sample, what `cleave demo` needs),\n" +
        "                 vision (every vision model and test photo), llm (stories260K), text, reference (default: all)\n" +
        "  --mirror URL   fetch URL/PATH instead of each file's upstream address (a copy laid out like the assets folder)\n" +
        "  --json         one JSON summary on stdout instead of the text summary\n" +
        "A file already there with the right SHA-256 is kept; an interrupted download resumes from FILE.part; a file whose\n" +
        "SHA-256 differs from the manifest (src/Cleave.Models/Assets/upstream-assets.tsv) is deleted and refused. Files made\n" +
        "for this project (no upstream: reference conversions, the TinyStories sample, STS-B) are listed, not fetched.\n" +
        "examples:\n" +
        "  cleave assets fetch --only demo && cleave demo\n" +
        "  cleave assets fetch --to /data/cleave-assets --only vision,llm\n" +
        "  cleave assets fetch --mirror http://127.0.0.1:8000/ --json";

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["to", "only", "mirror"], ["json"]);
        string destination = cl.Get("to") ?? AssetCache.DefaultFolder;
        string[]? groups = cl.Get("only")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Uri? mirror = null;
        if (cl.Get("mirror") is { } m)
        {
            if (!Uri.TryCreate(m.EndsWith('/') ? m : m + "/", UriKind.Absolute, out mirror) || mirror.Scheme is not ("http" or "https"))
                throw new UsageException($"--mirror: '{m}' is not an http:// or https:// address");
        }
        IReadOnlyList<UpstreamAsset> selected;
        try { selected = AssetFetcher.Select(groups); }
        catch (ArgumentException e) { throw new UsageException($"--only: {e.Message}"); }

        long total = selected.Sum(a => a.Size);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fetching {selected.Count} files ({total / 1048576.0:F1} MiB) into {Path.GetFullPath(destination)}{(mirror is null ? "" : $" from {mirror}")}"));
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var fetcher = new AssetFetcher(http);
        var lastReport = DateTime.UtcNow;
        int lastIndex = -1;
        var report = fetcher.FetchAsync(new AssetFetchOptions { Destination = destination, Groups = groups, Mirror = mirror }, p =>
        {
            // A line per file would be 1000 lines: one every few seconds, naming where the fetch is.
            if (p.Index == lastIndex && DateTime.UtcNow - lastReport < TimeSpan.FromSeconds(3)) return;
            if (p.Index != lastIndex && DateTime.UtcNow - lastReport < TimeSpan.FromSeconds(3)) { lastIndex = p.Index; return; }
            lastIndex = p.Index;
            lastReport = DateTime.UtcNow;
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {p.Index + 1}/{p.Count} {p.Path} {p.Bytes / 1024.0:F0}/{p.Size / 1024.0:F0} KiB"));
        }).GetAwaiter().GetResult();

        if (cl.Has("json"))
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("destination", report.Destination);
                w.WriteNumber("requested", report.Requested);
                w.WriteNumber("already_present", report.AlreadyPresent);
                w.WriteNumber("downloaded", report.Downloaded);
                w.WriteNumber("resumed", report.Resumed);
                w.WriteNumber("derived", report.Derived);
                w.WriteNumber("bytes_downloaded", report.BytesDownloaded);
                w.WriteStartArray("no_upstream");
                foreach (string p in report.NoUpstream) w.WriteStringValue(p);
                w.WriteEndArray();
                w.WriteStartArray("failures");
                foreach (var f in report.Failures)
                {
                    w.WriteStartObject();
                    w.WriteString("path", f.Path);
                    w.WriteString("reason", f.Reason);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteBoolean("complete", report.Complete);
                w.WriteEndObject();
            });
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{report.Destination}: {report.AlreadyPresent} already there, {report.Downloaded} downloaded ({report.Resumed} resumed, {report.BytesDownloaded / 1048576.0:F1} MiB), {report.Derived} derived"));
            if (report.NoUpstream.Count > 0) Console.WriteLine($"not fetched (made for this project, no upstream): {string.Join(", ", report.NoUpstream)}");
            foreach (var f in report.Failures) Console.WriteLine($"FAILED {f.Path}: {f.Reason}");
        }
        if (!report.Complete) Console.Error.WriteLine($"cleave assets fetch: {report.Failures.Count} file(s) failed; run it again to retry (downloads resume)");
        return report.Complete ? 0 : 1;
    }
}
