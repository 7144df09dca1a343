using Cleave.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Cleave.Training.Tests;

/// <summary>libtorch loads from the build output (patched by the build where the host's libstdc++ is older) and trains.</summary>
public sealed class TorchLoadsTests
{
    [Fact]
    public void Ones_linear_and_backward_run()
    {
        TorchRuntime.Initialise();
        using var x = ones(4, 3);
        using var linear = nn.Linear(3, 2);
        using var y = linear.forward(x);
        using var loss = y.sum();
        loss.backward();
        using var grad = linear.weight!.grad!;
        Assert.Equal(new long[] { 2, 3 }, grad.shape);
        // d(sum(xW^T + b))/dW = sum over the batch of x = 4 for every weight.
        Assert.All(grad.data<float>().ToArray(), g => Assert.Equal(4f, g, 5));
    }
}
