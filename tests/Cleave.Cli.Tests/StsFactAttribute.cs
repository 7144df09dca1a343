using Cleave.Models.Text;

namespace Cleave.Cli.Tests;

/// <summary>
/// A fact that needs the STS benchmark from the shared assets and the restored MiniLM package (the CLI finds it
/// the way a user's run would): skipped with the reason shown when either is missing.
/// </summary>
public sealed class StsFactAttribute : FactAttribute
{
    public const string StsCsv = "text/sts-test.csv";

    public StsFactAttribute()
    {
        Skip = new AssetFactAttribute(StsCsv).Skip;
        if (Skip is null && MiniLmPackage.TryLocate() is null)
            Skip = $"{MiniLmPackage.PackageId} {MiniLmPackage.PackageVersion} was not restored into the NuGet folder";
    }
}
