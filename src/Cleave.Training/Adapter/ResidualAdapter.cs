using Cleave.Training.Layers;
using static TorchSharp.torch;

namespace Cleave.Training.Adapter;

/// <summary>
/// The SALT-style adapter: x + up(relu(conv3x3(relu(down(x))))), channels kept, the last 1x1 convolution
/// zero-initialised so the adapter starts as the identity (an untrained adapter changes nothing).
/// </summary>
public static class ResidualAdapter
{
    public static ResidualLayer Create(long channels, long rank)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        var up = new Conv2dLayer(rank, channels, 1);
        using (no_grad())
        {
            up.Weight.zero_();
            up.Bias?.zero_();
        }
        return new ResidualLayer(new SequentialLayer(new Conv2dLayer(channels, rank, 1), new ActivationLayer(), new Conv2dLayer(rank, rank, 3),
            new ActivationLayer(), up));
    }
}
