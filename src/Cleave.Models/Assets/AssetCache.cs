namespace Cleave.Models.Assets;

/// <summary>
/// The per-user folder that <c>cleave assets fetch</c> fills by default and that <see cref="AssetLocator"/> looks in
/// last: <c>$CLEAVE_ASSET_CACHE</c>, else <c>$XDG_CACHE_HOME/cleave/assets</c>, else <c>~/.cache/cleave/assets</c>.
/// </summary>
public static class AssetCache
{
    public const string EnvironmentVariable = "CLEAVE_ASSET_CACHE";

    /// <summary>Written by a fetch that completed: the folder holds verified assets (possibly only some groups).</summary>
    public const string MarkerFile = ".cleave-assets";

    public static string DefaultFolder
    {
        get
        {
            if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } explicitFolder) return Path.GetFullPath(explicitFolder);
            string cacheRoot = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.GetFullPath(Path.Combine(cacheRoot, "cleave", "assets"));
        }
    }

    /// <summary>The default folder when a fetch has completed there, else null.</summary>
    public static string? Filled => File.Exists(Path.Combine(DefaultFolder, MarkerFile)) ? DefaultFolder : null;
}
