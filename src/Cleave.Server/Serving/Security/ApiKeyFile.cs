using System.Security.Cryptography;
using System.Text;

namespace Cleave.Runtime.Serving.Security;

/// <summary>
/// The key file format, one key a line: <c>name:sha256-hex[:rate=R,burst=B,concurrent=C]</c>; blank lines and lines
/// starting with <c>#</c> are ignored. Only hashes are stored: a stolen key file does not let anyone call the server.
/// Keys are random (32 bytes, base64url, prefixed <c>ck_</c>), so a fast hash is enough: there is nothing to guess.
/// </summary>
public static class ApiKeyFile
{
    public const string KeyPrefix = "ck_";

    /// <summary>Parses key file text (or the same text from an environment variable, where <c>;</c> may also separate entries).</summary>
    public static IReadOnlyList<ApiKeyEntry> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var entries = new List<ApiKeyEntry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (string raw in text.Split(['\n', ';']))
        {
            lineNumber++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            string[] fields = line.Split(':', 3);
            if (fields.Length < 2) throw new FormatException($"key entry {lineNumber}: expected name:sha256-hex[:quota]");
            string name = fields[0].Trim(), hash = fields[1].Trim().ToLowerInvariant();
            if (!IsValidName(name)) throw new FormatException($"key entry {lineNumber}: the name must be 1-64 letters, digits, '-', '_' or '.'");
            if (hash.Length != 64 || !hash.All(Uri.IsHexDigit)) throw new FormatException($"key entry {lineNumber} ({name}): the hash must be 64 hex digits (SHA-256 of the key)");
            if (!names.Add(name)) throw new FormatException($"key entry {lineNumber}: the name '{name}' appears twice");
            var quota = fields.Length == 3 && fields[2].Trim().Length > 0 ? ClientQuota.Parse(fields[2]) : null;
            entries.Add(new ApiKeyEntry(name, hash, quota));
        }
        return entries;
    }

    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>SHA-256 of a key's UTF-8 bytes, lower-case hex: what the key file stores.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>A fresh random key; shown once to whoever creates it, never stored.</summary>
    public static string NewKey() => KeyPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Adds a key named <paramref name="name"/> to the file (created if absent) and returns the key itself.</summary>
    public static string Add(string path, string name, ClientQuota? quota = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!IsValidName(name)) throw new ArgumentException("the name must be 1-64 letters, digits, '-', '_' or '.'", nameof(name));
        string existing = File.Exists(path) ? File.ReadAllText(path) : "";
        if (Parse(existing).Any(e => e.Name == name)) throw new ArgumentException($"'{path}' already has a key named '{name}' (revoke it first)", nameof(name));
        string key = NewKey();
        string line = $"{name}:{Hash(key)}{(quota is { IsUnlimited: false } ? ":" + quota : "")}\n";
        string prefix = existing.Length > 0 && !existing.EndsWith('\n') ? "\n" : "";
        File.WriteAllText(path, existing + prefix + line);
        return key;
    }

    /// <summary>Removes the key named <paramref name="name"/>; a server watching the file stops accepting it within its reload interval.</summary>
    public static bool Revoke(string path, string name)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) return false;
        var lines = File.ReadAllLines(path);
        var kept = lines.Where(l => !(l.Trim().Split(':', 2) is [var n, _] && n.Trim() == name && !l.TrimStart().StartsWith('#'))).ToArray();
        if (kept.Length == lines.Length) return false;
        File.WriteAllLines(path, kept);
        return true;
    }
}
