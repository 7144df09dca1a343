using System.Globalization;

namespace Cleave.Codecs;

/// <summary>
/// A parsed codec spec string, <c>name:key=value,key=value</c> (e.g. <c>quant:bits=4,entropy=rans</c>).
/// Parsing is strict: every key must be read by the codec, so a typo is an error rather than a silent default.
/// </summary>
public sealed class CodecSpec
{
    private readonly Dictionary<string, string> _values;
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    private CodecSpec(string name, Dictionary<string, string> values)
    {
        Name = name;
        _values = values;
    }

    public string Name { get; }

    public static CodecSpec Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec = spec.Trim();
        int colon = spec.IndexOf(':');
        string name = (colon < 0 ? spec : spec[..colon]).Trim().ToLowerInvariant();
        if (name.Length == 0) throw new ArgumentException($"codec spec '{spec}' has no codec name");
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (colon >= 0)
        {
            foreach (string part in spec[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                int eq = part.IndexOf('=');
                if (eq <= 0 || eq == part.Length - 1)
                    throw new ArgumentException($"codec spec '{spec}': '{part}' is not key=value");
                string key = part[..eq].Trim().ToLowerInvariant();
                if (!values.TryAdd(key, part[(eq + 1)..].Trim()))
                    throw new ArgumentException($"codec spec '{spec}': key '{key}' given twice");
            }
        }
        return new CodecSpec(name, values);
    }

    public string? GetString(string key)
    {
        _used.Add(key);
        return _values.TryGetValue(key, out var v) ? v : null;
    }

    public string GetChoice(string key, string fallback, params string[] allowed)
    {
        string value = (GetString(key) ?? fallback).ToLowerInvariant();
        return Array.IndexOf(allowed, value) >= 0 ? value
            : throw new ArgumentException($"codec '{Name}': {key}={value} is not one of {string.Join(", ", allowed)}");
    }

    public int GetInt(string key, int fallback, int min, int max)
    {
        string? text = GetString(key);
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
            throw new ArgumentException($"codec '{Name}': {key}={text} is not an integer");
        if (value < min || value > max)
            throw new ArgumentException($"codec '{Name}': {key}={value} is outside {min}..{max}");
        return value;
    }

    /// <summary>Throws when the spec holds keys the codec never asked for.</summary>
    public void EnsureAllKeysUsed()
    {
        foreach (string key in _values.Keys)
            if (!_used.Contains(key))
                throw new ArgumentException($"codec '{Name}' has no parameter '{key}' (known: {string.Join(", ", _used)})");
    }
}
