using System.Reflection;

namespace Cleave.Packaging.Tests;

/// <summary>Where the repository is (the folder with Cleave.slnx above the test binaries) and how it was built.</summary>
internal static class RepositoryRoot
{
    public static string Path { get; } = Find();

    /// <summary>The configuration these tests were built in; the packed projects were built in the same one.</summary>
    public static string Configuration { get; } =
        typeof(RepositoryRoot).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";

    public static string Project(string name) => System.IO.Path.Combine(Path, "src", name, name + ".csproj");

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Cleave.slnx"))) return dir.FullName;
        throw new InvalidOperationException($"no Cleave.slnx above {AppContext.BaseDirectory}");
    }
}
