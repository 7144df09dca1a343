namespace Cleave.Models;

/// <summary>
/// Finds the shared model and data assets: an explicit path, else <c>CLEAVE_ASSETS</c>, else <c>../shared/assets</c>
/// next to the repository root found by walking up from the working directory or the program's own folder, else the
/// per-user cache that <c>cleave assets fetch</c> fills (<see cref="Assets.AssetCache"/>).
/// </summary>
public static class AssetLocator
{
    public const string EnvironmentVariable = "CLEAVE_ASSETS";

    public static string Resolve(string? explicitPath = null)
    {
        if (!string.IsNullOrEmpty(explicitPath))
            return Directory.Exists(explicitPath) ? Path.GetFullPath(explicitPath)
                : throw new DirectoryNotFoundException($"assets folder '{explicitPath}' does not exist");

        string? fromEnv = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnv))
            return Directory.Exists(fromEnv) ? Path.GetFullPath(fromEnv)
                : throw new DirectoryNotFoundException($"{EnvironmentVariable}='{fromEnv}' does not exist");

        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "..", "shared", "assets");
                if (File.Exists(Path.Combine(dir.FullName, "Cleave.slnx")) && Directory.Exists(candidate))
                    return Path.GetFullPath(candidate);
                candidate = Path.Combine(dir.FullName, "shared", "assets");
                if (Directory.Exists(candidate) && File.Exists(Path.Combine(candidate, "README.md")))
                    return Path.GetFullPath(candidate);
            }
        }
        if (Assets.AssetCache.Filled is { } cache) return cache;
        throw new DirectoryNotFoundException(
            $"shared assets not found: expected ../shared/assets beside the repository, or set {EnvironmentVariable} or pass --assets; " +
            $"`cleave assets fetch` downloads them into {Assets.AssetCache.DefaultFolder}");
    }
}
