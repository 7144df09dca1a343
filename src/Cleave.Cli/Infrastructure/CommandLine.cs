using System.Globalization;

namespace Cleave.Cli.Infrastructure;

/// <summary>Thrown for a bad command line; the program prints the message and the verb's usage, and exits with 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// A parsed command line: positional arguments and <c>--name value</c> / <c>--flag</c> options.
/// Each verb declares which options take a value, so a typo is reported instead of silently ignored.
/// </summary>
public sealed class CommandLine
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public CommandLine(IReadOnlyList<string> args, IReadOnlyCollection<string> valueOptions, IReadOnlyCollection<string> flags)
    {
        var positional = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                string name = a[2..];
                string? inlineValue = null;
                int eq = name.IndexOf('=');
                if (eq >= 0) { inlineValue = name[(eq + 1)..]; name = name[..eq]; }
                name = OptionAliases.Resolve(name, valueOptions, flags);
                if (valueOptions.Contains(name))
                {
                    string value = inlineValue ?? (i + 1 < args.Count ? args[++i] : throw new UsageException($"option --{name} needs a value"));
                    _options[name] = value;
                }
                else if (flags.Contains(name))
                {
                    if (inlineValue is not null) throw new UsageException($"option --{name} takes no value");
                    _options[name] = null;
                }
                else
                {
                    string? near = NearestName.Find(name, valueOptions.Concat(flags));
                    throw new UsageException($"unknown option --{name}" + (near is null ? "" : $"; did you mean --{near}?"));
                }
            }
            else if (a == "-o" && valueOptions.Contains("output"))
            {
                _options["output"] = i + 1 < args.Count ? args[++i] : throw new UsageException("option -o needs a value");
            }
            else
            {
                positional.Add(a);
            }
        }
        Positional = positional;
    }

    public IReadOnlyList<string> Positional { get; }

    public bool Has(string name) => _options.ContainsKey(name);

    public string? Get(string name) => _options.TryGetValue(name, out var v) ? v : null;

    public string Require(string name) => Get(name) ?? throw new UsageException($"missing required option --{name}");

    public int GetInt(string name, int fallback)
    {
        string? v = Get(name);
        if (v is null) return fallback;
        return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n)
            ? n : throw new UsageException($"--{name} expects an integer, got '{v}'");
    }

    public double GetDouble(string name, double fallback)
    {
        string? v = Get(name);
        if (v is null) return fallback;
        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)
            ? d : throw new UsageException($"--{name} expects a number, got '{v}'");
    }

    /// <summary>An option that takes on, off or auto (absent or auto: null, the library's choice).</summary>
    public bool? GetOnOffAuto(string name) => Get(name) switch
    {
        null or "auto" => null,
        "on" => true,
        "off" => false,
        var other => throw new UsageException($"--{name} takes on, off or auto, not '{other}'"),
    };

    public string PositionalAt(int index, string what) =>
        index < Positional.Count ? Positional[index] : throw new UsageException($"missing {what}");
}
