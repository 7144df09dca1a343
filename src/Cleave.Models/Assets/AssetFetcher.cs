using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Cleave.Models.Assets;

/// <summary>What <see cref="AssetFetcher"/> should fetch, from where, into where.</summary>
public sealed record AssetFetchOptions
{
    /// <summary>The assets root to fill (<see cref="AssetCache.DefaultFolder"/> by default in the CLI).</summary>
    public required string Destination { get; init; }

    /// <summary>Only assets in one of these groups (<see cref="UpstreamAsset.KnownGroups"/>); null = every group.</summary>
    public IReadOnlyCollection<string>? Groups { get; init; }

    /// <summary>Fetch <c>Mirror + path</c> instead of each file's upstream URL (a copy laid out like the assets folder).</summary>
    public Uri? Mirror { get; init; }

    /// <summary>A download that receives nothing for this long fails (and can be resumed).</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>One file that could not be fetched, and why.</summary>
public sealed record AssetFailure(string Path, string Reason);

/// <summary>The outcome of a fetch: counts, bytes, and every file that failed or has no upstream.</summary>
public sealed record AssetFetchReport(string Destination, int Requested, int AlreadyPresent, int Downloaded, int Resumed, int Derived,
    long BytesDownloaded, IReadOnlyList<string> NoUpstream, IReadOnlyList<AssetFailure> Failures)
{
    public bool Complete => Failures.Count == 0;
}

/// <summary>Progress of one file: its index among the requested ones, and bytes so far of its size.</summary>
public readonly record struct AssetProgress(int Index, int Count, string Path, long Bytes, long Size);

/// <summary>
/// Downloads the shared assets from their pinned upstream commits (or a mirror) into an assets folder, the way
/// <c>cleave assets fetch</c> does: a file already there with the right SHA-256 is kept; a download goes to
/// <c>FILE.part</c> and resumes from it with an HTTP range request; nothing beyond the manifest's size is accepted; a
/// finished download whose SHA-256 differs from the manifest is deleted and refused; only a verified file takes its
/// final name (renamed over, so a reader never sees half a file). A failed file does not stop the others; each failure
/// is reported with its reason. The manifest is <see cref="UpstreamAsset.All"/>.
/// </summary>
public sealed class AssetFetcher(HttpClient http)
{
    private readonly HttpClient _http = http ?? throw new ArgumentNullException(nameof(http));

    /// <summary>The assets a fetch with these groups covers (null or empty = all).</summary>
    public static IReadOnlyList<UpstreamAsset> Select(IReadOnlyCollection<string>? groups)
    {
        if (groups is { Count: > 0 })
            foreach (string g in groups)
                if (!UpstreamAsset.KnownGroups.Contains(g, StringComparer.Ordinal))
                    throw new ArgumentException($"unknown asset group '{g}' (known: {string.Join(", ", UpstreamAsset.KnownGroups)})");
        return [.. UpstreamAsset.All.Where(a => groups is not { Count: > 0 } || a.Groups.Any(groups.Contains))];
    }

    public async Task<AssetFetchReport> FetchAsync(AssetFetchOptions options, Action<AssetProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var assets = Select(options.Groups);
        string root = Path.GetFullPath(options.Destination);
        Directory.CreateDirectory(root);
        int present = 0, downloaded = 0, resumed = 0, derived = 0;
        long bytes = 0;
        var noUpstream = new List<string>();
        var failures = new List<AssetFailure>();
        for (int i = 0; i < assets.Count; i++)
        {
            var asset = assets[i];
            string target = Target(root, asset.Path);
            if (await HasAsync(target, asset, cancellationToken).ConfigureAwait(false)) { present++; continue; }
            if (asset.Source == UpstreamAsset.NoSource) { noUpstream.Add(asset.Path); continue; }
            if (asset.Source == UpstreamAsset.DerivedWnids) continue; // after the sample it is derived from
            if (!asset.Downloadable) { failures.Add(new AssetFailure(asset.Path, $"unknown source '{asset.Source}'")); continue; }
            var url = options.Mirror is { } mirror ? new Uri(mirror, asset.Path) : new Uri(asset.Source);
            try
            {
                var (got, wasResumed) = await DownloadAsync(url, target, asset, options.StallTimeout, p => progress?.Invoke(new AssetProgress(i, assets.Count, asset.Path, p, asset.Size)), cancellationToken).ConfigureAwait(false);
                bytes += got;
                downloaded++;
                if (wasResumed) resumed++;
            }
            catch (AssetFetchException e) { failures.Add(new AssetFailure(asset.Path, e.Message)); }
            catch (HttpRequestException e) { failures.Add(new AssetFailure(asset.Path, $"{url}: {e.Message}")); }
            catch (IOException e) { failures.Add(new AssetFailure(asset.Path, e.Message)); }
        }
        foreach (var asset in assets.Where(a => a.Source == UpstreamAsset.DerivedWnids))
        {
            string target = Target(root, asset.Path);
            if (await HasAsync(target, asset, cancellationToken).ConfigureAwait(false)) continue;
            string? reason = await DeriveWnidsAsync(root, target, asset, cancellationToken).ConfigureAwait(false);
            if (reason is null) derived++;
            else failures.Add(new AssetFailure(asset.Path, reason));
        }
        if (failures.Count == 0) await File.WriteAllTextAsync(Path.Combine(root, AssetCache.MarkerFile), "verified by cleave assets fetch\n", cancellationToken).ConfigureAwait(false);
        return new AssetFetchReport(root, assets.Count, present, downloaded, resumed, derived, bytes, noUpstream, failures);
    }

    /// <summary>The file's place under the root (the manifest is ours, but a path must still stay inside the root).</summary>
    private static string Target(string root, string relative)
    {
        string full = Path.GetFullPath(Path.Combine(root, relative));
        return full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? full
            : throw new InvalidDataException($"asset path '{relative}' leaves the assets folder");
    }

    private static async Task<bool> HasAsync(string path, UpstreamAsset asset, CancellationToken cancellationToken) =>
        File.Exists(path) && new FileInfo(path).Length == asset.Size && await Sha256Async(path, cancellationToken).ConfigureAwait(false) == asset.Sha256;

    private static async Task<string> Sha256Async(string path, CancellationToken cancellationToken)
    {
        await using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Downloads into <c>target.part</c> (resuming it), checks size and SHA-256, then renames. Returns bytes received and whether it resumed.</summary>
    private async Task<(long Bytes, bool Resumed)> DownloadAsync(Uri url, string target, UpstreamAsset asset, TimeSpan stallTimeout, Action<long> progress,
        CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        string part = target + ".part";
        long have = File.Exists(part) ? new FileInfo(part).Length : 0;
        if (have > asset.Size) { File.Delete(part); have = 0; }
        long received = 0;
        bool resumed = false;
        if (have < asset.Size)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            stall.CancelAfter(stallTimeout);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stall.Token).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.PartialContent && have > 0) resumed = true;
            else if (response.IsSuccessStatusCode) have = 0; // the whole file again: the server ignored the range
            else throw new AssetFetchException($"{url} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            await using var body = await response.Content.ReadAsStreamAsync(stall.Token).ConfigureAwait(false);
            await using var file = new FileStream(part, have > 0 ? FileMode.Append : FileMode.Create, FileAccess.Write);
            var buffer = new byte[81920];
            while (true)
            {
                stall.CancelAfter(stallTimeout);
                int n;
                try { n = await body.ReadAsync(buffer, stall.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new AssetFetchException($"{url} sent nothing for {stallTimeout.TotalSeconds:0} s after {have + received:N0} of {asset.Size:N0} bytes; run again to resume");
                }
                catch (IOException e)
                {
                    throw new AssetFetchException($"{url} broke off after {have + received:N0} of {asset.Size:N0} bytes ({e.Message}); run again to resume");
                }
                if (n == 0) break;
                if (have + received + n > asset.Size)
                {
                    file.Close();
                    File.Delete(part);
                    throw new AssetFetchException($"{url} sent more than the {asset.Size:N0} bytes the manifest lists; refused");
                }
                await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                received += n;
                progress(have + received);
            }
        }
        long length = new FileInfo(part).Length;
        if (length < asset.Size) throw new AssetFetchException($"{url} ended after {length:N0} of {asset.Size:N0} bytes (truncated); run again to resume");
        if (await Sha256Async(part, cancellationToken).ConfigureAwait(false) != asset.Sha256)
        {
            File.Delete(part);
            throw new AssetFetchException($"{url}: SHA-256 differs from the manifest's {asset.Sha256[..16]}...; refused and deleted");
        }
        File.Move(part, target, overwrite: true);
        return (received, resumed);
    }

    /// <summary>imagenet_wnids.txt: the sorted, distinct wnids of the sample's file names. Null when done, else why not.</summary>
    private static async Task<string?> DeriveWnidsAsync(string root, string target, UpstreamAsset asset, CancellationToken cancellationToken)
    {
        var sample = UpstreamAsset.All.Where(a => a.Path.StartsWith("imagenet-sample/", StringComparison.Ordinal)).ToList();
        if (!sample.All(a => File.Exists(Target(root, a.Path)))) return "derived from imagenet-sample, which is not complete here";
        var wnids = sample.Select(a => Path.GetFileName(a.Path).Split('_')[0]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        string text = string.Concat(wnids.Select(w => w + "\n"));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        string part = target + ".part";
        await File.WriteAllTextAsync(part, text, cancellationToken).ConfigureAwait(false);
        if (await Sha256Async(part, cancellationToken).ConfigureAwait(false) != asset.Sha256)
        {
            File.Delete(part);
            return "the wnids derived from imagenet-sample do not match the manifest's SHA-256";
        }
        File.Move(part, target, overwrite: true);
        return null;
    }
}

/// <summary>A file could not be fetched (HTTP status, truncated, oversized, hash mismatch); the message says which.</summary>
public sealed class AssetFetchException(string message) : Exception(message);
