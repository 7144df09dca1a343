using Cleave.Training.Layers;

namespace Cleave.Training.EarlyExit;

/// <summary>
/// Small exit heads read at the cut: a convolution (predefined-sparse when <c>density</c> &lt; 1), batch
/// normalisation, ReLU, global average pooling and one linear layer to the classes (pooling plus two layers, so the
/// device's extra work stays a small share of the head's).
/// </summary>
public static class ExitHeads
{
    /// <param name="kernel">1 (pointwise) or 3; a 3x3 kernel with stride 2 halves the plane before pooling</param>
    public static SequentialLayer Create(long channels, long hidden, int classes, long kernel = 1, long stride = 1, double density = 1, int seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hidden, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        ExportableLayer conv = density < 1
            ? new SparseConv2dLayer(channels, hidden, kernel, density, seed, stride)
            : new Conv2dLayer(channels, hidden, kernel, stride);
        return new SequentialLayer(conv, new BatchNorm2dLayer(hidden), new ActivationLayer(), new PoolLayer(PoolKind.GlobalAverage), new LinearLayer(hidden, classes));
    }
}
