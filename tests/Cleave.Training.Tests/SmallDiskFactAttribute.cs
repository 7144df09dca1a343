namespace Cleave.Training.Tests;

/// <summary>A fact that needs <see cref="SmallDisk"/> (and, with <see cref="NeedsFashionMnist"/>, Fashion-MNIST): skipped with the reason otherwise.</summary>
public sealed class SmallDiskFactAttribute : FactAttribute
{
    public SmallDiskFactAttribute()
    {
        if (SmallDisk.Unavailable is { } reason) Skip = reason;
    }

    private bool needsFashionMnist;

    public bool NeedsFashionMnist
    {
        get => needsFashionMnist;
        set
        {
            needsFashionMnist = value;
            if (value && Skip is null && !Data.FashionMnist.IsInstalled())
                Skip = $"Fashion-MNIST is not installed in {Data.FashionMnist.DefaultFolder} (apt-get install dataset-fashion-mnist)";
        }
    }
}
