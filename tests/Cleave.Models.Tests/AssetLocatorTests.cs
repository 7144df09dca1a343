namespace Cleave.Models.Tests;

public sealed class AssetLocatorTests
{
    [AssetFact("vision/imagenet_labels.txt")]
    public void FindsSharedAssetsBesideRepository() =>
        Assert.True(File.Exists(TestAssets.Path("vision", "imagenet_labels.txt")));

    [Fact]
    public void ExplicitMissingFolderIsAClearError()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => AssetLocator.Resolve("/nonexistent/assets"));
        Assert.Contains("/nonexistent/assets", e.Message);
    }
}
