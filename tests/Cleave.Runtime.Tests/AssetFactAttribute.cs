using Cleave.Models;

namespace Cleave.Runtime.Tests;

/// <summary>
/// A fact that needs the shared assets: skipped, with the reason shown, when they cannot be found
/// (xunit v2 has no run-time skip, so the decision is made when the attribute is built).
/// </summary>
public sealed class AssetFactAttribute : FactAttribute
{
    public AssetFactAttribute(params string[] relativePaths)
    {
        string? root = TestAssets.Root;
        if (root is null) { Skip = "shared assets not found (../shared/assets or CLEAVE_ASSETS)"; return; }
        foreach (string p in relativePaths)
            if (!File.Exists(Path.Combine(root, p)) && !Directory.Exists(Path.Combine(root, p)))
                Skip = $"shared asset '{p}' is missing under {root}";
    }
}

/// <summary>The shared assets folder for tests, or null when absent.</summary>
public static class TestAssets
{
    public static string? Root { get; } = TryResolve();

    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([Root ?? throw new InvalidOperationException("shared assets not found"), .. parts]);

    private static string? TryResolve()
    {
        try { return AssetLocator.Resolve(); }
        catch (DirectoryNotFoundException) { return null; }
    }
}
