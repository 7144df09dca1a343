using Cleave.Models.Onnx;
using Cleave.Training.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cleave.Training.Bottleneck;

/// <summary>
/// y = x · exp(g) per channel with a learned log-gain g (starts at 0: the identity); exported as one Mul by the
/// constant exp(g). It lets a bottleneck's code grow or shrink as a whole: Adam moves each parameter by about its
/// learning rate per step, so a gain held in log space changes the code's scale by a factor per step, where the weights
/// of the convolutions before it (often large, ~1/(s·σ)) would move it by a few per cent in a few hundred steps.
/// </summary>
public sealed class ChannelGainLayer : ExportableLayer
{
    private readonly Parameter logGain;

    public ChannelGainLayer(long channels) : base("channel_gain")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        Channels = channels;
        logGain = new Parameter(zeros(channels));
        RegisterComponents();
    }

    public long Channels { get; }

    /// <summary>The learned log-gains (one per channel).</summary>
    public Parameter LogGain => logGain;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var shape = new long[input.dim()];
        Array.Fill(shape, 1L);
        shape[1] = Channels;
        return (input * logGain.exp().reshape(shape)).MoveToOuterDisposeScope();
    }

    public override string EmitOnnx(OnnxGraphBuilder graph, string input)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        string gain = graph.AddFloats("gain", Values(logGain.exp()), Channels, 1, 1);
        return graph.Emit("Mul", "gained", [input, gain]);
    }

    public override long[] OutputShape(long[] inputShape) => inputShape;
}
