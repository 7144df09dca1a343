using Cleave.Training.Data;

namespace Cleave.Training.Tests;

/// <summary>A fact that trains on Fashion-MNIST: skipped, with the reason, when Debian's dataset-fashion-mnist is absent.</summary>
public sealed class FashionMnistFactAttribute : FactAttribute
{
    public FashionMnistFactAttribute()
    {
        if (!FashionMnist.IsInstalled())
            Skip = $"Fashion-MNIST is not installed in {FashionMnist.DefaultFolder} (apt-get install dataset-fashion-mnist; the test project's build tries as root)";
    }
}
