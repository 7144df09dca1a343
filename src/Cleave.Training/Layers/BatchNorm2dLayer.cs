using Cleave.Models.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cleave.Training.Layers;

/// <summary>Batch normalisation; exported as a per-channel scale and shift (or folded into the convolution before it).</summary>
public sealed class BatchNorm2dLayer : ExportableLayer
{
    private readonly BatchNorm2d norm;

    public BatchNorm2dLayer(long channels, double epsilon = 1e-5, double momentum = 0.1) : base("batchnorm2d")
    {
        Channels = channels;
        Epsilon = epsilon;
        norm = nn.BatchNorm2d(channels, epsilon, momentum);
        RegisterComponents();
    }

    public long Channels { get; }
    public double Epsilon { get; }

    public override Tensor forward(Tensor input) => norm.forward(input);

    /// <summary>y = x * scale + shift in inference form.</summary>
    internal (Tensor Scale, Tensor Shift) ScaleAndShift()
    {
        var scale = norm.weight! * (norm.running_var! + Epsilon).rsqrt();
        var shift = norm.bias! - norm.running_mean! * scale;
        return (scale, shift);
    }

    public override string EmitOnnx(OnnxGraphBuilder graph, string input)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (scale, shift) = ScaleAndShift();
        string s = graph.AddFloats("bn_scale", Values(scale), Channels, 1, 1);
        string b = graph.AddFloats("bn_shift", Values(shift), Channels, 1, 1);
        return graph.Emit("Add", "bn", [graph.Emit("Mul", "bn_scaled", [input, s]), b]);
    }

    public override long[] OutputShape(long[] inputShape) => inputShape;
}
