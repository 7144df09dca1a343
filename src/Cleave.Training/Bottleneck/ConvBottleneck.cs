using Cleave.Training.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Cleave.Training.Bottleneck;

/// <summary>
/// A learned bottleneck at a cut of C channels: the device-side encoder (3x3 conv to H channels, ReLU, 1x1 conv to K
/// code channels, soft bound) and the server-side decoder (3x3 conv to H, ReLU, 3x3 conv H to H, ReLU, 1x1 conv back
/// to C: the tail's input). The code is what Cleave's codecs quantize and entropy-code.
/// </summary>
public sealed class ConvBottleneck : nn.Module<Tensor, Tensor>
{
    private readonly SequentialLayer encoder;
    private readonly SequentialLayer decoder;
    private readonly LaplaceRate rate;

    public ConvBottleneck(long channels, long codeChannels, long hidden, double bound) : base("bottleneck")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(codeChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hidden, 1);
        Channels = channels;
        CodeChannels = codeChannels;
        Bound = bound;
        encoder = new SequentialLayer(new Conv2dLayer(channels, hidden, 3), new ActivationLayer(), new Conv2dLayer(hidden, codeChannels, 1), new SoftBoundLayer(bound));
        decoder = new SequentialLayer(new Conv2dLayer(codeChannels, hidden, 3), new ActivationLayer(), new Conv2dLayer(hidden, hidden, 3), new ActivationLayer(),
            new Conv2dLayer(hidden, channels, 1));
        rate = new LaplaceRate(codeChannels);
        RegisterComponents();
    }

    public long Channels { get; }
    public long CodeChannels { get; }
    public double Bound { get; }

    /// <summary>Runs on the device, after the head.</summary>
    public SequentialLayer Encoder => encoder;

    /// <summary>Runs on the server, before the tail.</summary>
    public SequentialLayer Decoder => decoder;

    public LaplaceRate Rate => rate;

    /// <summary>Encoder, rounding (what a codec with step 1 does), decoder: the deployed path.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return decoder.forward(encoder.forward(input).round()).MoveToOuterDisposeScope();
    }
}
