using System.Globalization;
using System.Reflection;

namespace Cleave.Models.Assets;

/// <summary>One file of the shared assets: where it lives under the assets root, its groups, size, SHA-256 and source.</summary>
public sealed record UpstreamAsset(string Path, IReadOnlyList<string> Groups, long Size, string Sha256, string Source)
{
    /// <summary>Source of the one file rebuilt here rather than downloaded: the sorted wnids of the ImageNet sample.</summary>
    public const string DerivedWnids = "derived:wnids";

    /// <summary>Source of files made for this project, with no upstream to download from.</summary>
    public const string NoSource = "none";

    public bool Downloadable => Source.StartsWith("https://", StringComparison.Ordinal) || Source.StartsWith("http://", StringComparison.Ordinal);

    /// <summary>The groups <c>cleave assets fetch --only</c> knows.</summary>
    public static IReadOnlyList<string> KnownGroups { get; } = ["demo", "vision", "llm", "text", "reference"];

    /// <summary>Every shared asset (the manifest embedded in this library, made by docs/assets-manifest.py).</summary>
    public static IReadOnlyList<UpstreamAsset> All { get; } = Load();

    private static UpstreamAsset[] Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Cleave.Models.Assets.upstream-assets.tsv")
            ?? throw new InvalidOperationException("the asset manifest is not embedded in Cleave.Models");
        using var reader = new StreamReader(stream);
        var assets = new List<UpstreamAsset>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var f = line.Split('\t');
            if (f.Length != 5) throw new InvalidDataException($"asset manifest line '{line}' has {f.Length} fields, not 5");
            assets.Add(new UpstreamAsset(f[0], f[1].Split(','), long.Parse(f[2], CultureInfo.InvariantCulture), f[3], f[4]));
        }
        return [.. assets];
    }
}
