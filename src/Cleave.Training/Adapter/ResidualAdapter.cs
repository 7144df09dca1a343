using Cleave.Training.Layers;
using static TorchSharp.torch;

namespace Cleave.Training.Adapter;

/// <summary>
/// The SALT-style adapter: x + up(relu(conv3x3(relu(down(x))))), channels kept, the last 1x1 convolution
/// zero-initialised so the adapter starts as the identity (an untrained adapter changes nothing). With
/// <c>depth</c> D the branch has D 3x3 convolutions (each with its ReLU): a receptive field of 2D + 1 cut positions,
/// for shifts such as blur that spread over more than the 3x3 neighbourhood.
/// </summary>
public static class ResidualAdapter
{
    /// <summary>Most 3x3 convolutions in the branch.</summary>
    public const int MaxDepth = 8;

    public static ResidualLayer Create(long channels, long rank, int depth = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(depth, MaxDepth);
        var up = new Conv2dLayer(rank, channels, 1);
        using (no_grad())
        {
            up.Weight.zero_();
            up.Bias?.zero_();
        }
        var layers = new List<ExportableLayer> { new Conv2dLayer(channels, rank, 1), new ActivationLayer() };
        for (int i = 0; i < depth; i++) layers.AddRange([new Conv2dLayer(rank, rank, 3), new ActivationLayer()]);
        layers.Add(up);
        return new ResidualLayer(new SequentialLayer([.. layers]));
    }
}
