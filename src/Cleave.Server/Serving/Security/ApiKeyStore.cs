using System.Collections.Frozen;

namespace Cleave.Runtime.Serving.Security;

/// <summary>
/// The keys a server accepts: entries from a key file (re-read when its modification time changes, checked at most
/// once per <see cref="ReloadInterval"/>, so a revoked key stops working without a restart) plus fixed entries (from
/// an environment variable). A broken file on reload keeps the previous keys and counts a failure rather than
/// opening or closing the door.
/// </summary>
public sealed class ApiKeyStore
{
    private readonly string? _path;
    private readonly IReadOnlyList<ApiKeyEntry> _fixed;
    private readonly TimeProvider _time;
    private readonly Lock _reloadLock = new();
    private volatile FrozenDictionary<string, ApiKeyEntry> _byHash;
    // Modification time and length: a rewrite within the file system's time resolution still changes the length, mostly.
    private (DateTime Modified, long Length) _fileStamp;
    private long _lastCheck;

    public ApiKeyStore(string? path, IReadOnlyList<ApiKeyEntry>? fixedEntries = null, TimeProvider? time = null)
    {
        _path = path;
        _fixed = fixedEntries ?? [];
        _time = time ?? TimeProvider.System;
        if (_path is not null && !File.Exists(_path)) throw new FileNotFoundException($"key file '{_path}' not found", _path);
        _byHash = Build(); // a broken file at start is an error, not an empty key set
        _lastCheck = _time.GetTimestamp();
    }

    public TimeSpan ReloadInterval { get; init; } = TimeSpan.FromSeconds(1);

    public int Count => _byHash.Count;

    /// <summary>Reloads that failed (unreadable or malformed file); the previous keys stayed in force.</summary>
    public long ReloadFailures { get; private set; }

    /// <summary>The entry for a presented key, or null (unknown or revoked).</summary>
    public ApiKeyEntry? Find(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length is 0 or > 512) return null;
        ReloadIfChanged();
        return _byHash.GetValueOrDefault(ApiKeyFile.Hash(key));
    }

    /// <summary>Reads the key file again now.</summary>
    public void Reload()
    {
        lock (_reloadLock)
        {
            try { _byHash = Build(); }
            catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { ReloadFailures++; }
        }
    }

    private void ReloadIfChanged()
    {
        if (_path is null || _time.GetElapsedTime(Interlocked.Read(ref _lastCheck)) < ReloadInterval) return;
        Interlocked.Exchange(ref _lastCheck, _time.GetTimestamp());
        (DateTime, long) stamp;
        try { stamp = Stamp(_path); }
        catch (IOException) { return; }
        if (stamp != _fileStamp) Reload();
    }

    private static (DateTime, long) Stamp(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1);
    }

    private FrozenDictionary<string, ApiKeyEntry> Build()
    {
        var entries = new Dictionary<string, ApiKeyEntry>(StringComparer.Ordinal);
        foreach (var e in _fixed) entries[e.Sha256Hex] = e;
        if (_path is not null)
        {
            // A missing file (deleted to revoke everything) means no keys from it.
            var stamp = Stamp(_path);
            if (File.Exists(_path))
                foreach (var e in ApiKeyFile.Parse(File.ReadAllText(_path))) entries[e.Sha256Hex] = e;
            _fileStamp = stamp;
        }
        return entries.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
