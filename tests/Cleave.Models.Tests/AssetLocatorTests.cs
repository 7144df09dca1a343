namespace Cleave.Models.Tests;

public sealed class AssetLocatorTests
{
    [Fact]
    public void FindsSharedAssetsBesideRepository() =>
        Assert.True(File.Exists(Path.Combine(AssetLocator.Resolve(), "vision", "imagenet_labels.txt")));

    [Fact]
    public void ExplicitMissingFolderIsAClearError()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => AssetLocator.Resolve("/nonexistent/assets"));
        Assert.Contains("/nonexistent/assets", e.Message);
    }
}
