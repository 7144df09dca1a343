using Cleave.Codecs;

namespace Cleave.Codecs.Tests;

public sealed class TensorShapeTests
{
    [Fact]
    public void ScalarHasOneElement() => Assert.Equal(1, new TensorShape().ElementCount);

    [Fact]
    public void ElementCountIsProductOfDimensions() => Assert.Equal(24, new TensorShape(2, 3, 4).ElementCount);

    [Fact]
    public void RejectsNegativeAndOverflowingShapes()
    {
        Assert.Throws<ArgumentException>(() => new TensorShape(2, -1));
        Assert.Throws<ArgumentException>(() => new TensorShape(65536, 65536));
        Assert.False(TensorShape.TryCreate([long.MaxValue], out _));
    }
}
