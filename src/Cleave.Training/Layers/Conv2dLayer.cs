using Cleave.Models.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cleave.Training.Layers;

/// <summary>A 2-D convolution with symmetric padding (ONNX Conv).</summary>
public sealed class Conv2dLayer : ExportableLayer, IFoldsBatchNorm
{
    private readonly Conv2d conv;

    public Conv2dLayer(long inputChannels, long outputChannels, long kernel, long stride = 1, long? padding = null, long groups = 1, bool bias = true)
        : base("conv2d")
    {
        Kernel = kernel;
        Stride = stride;
        Padding = padding ?? kernel / 2;
        Groups = groups;
        InputChannels = inputChannels;
        OutputChannels = outputChannels;
        conv = nn.Conv2d(inputChannels, outputChannels, kernel, stride, Padding, groups: groups, bias: bias);
        RegisterComponents();
    }

    public long InputChannels { get; }
    public long OutputChannels { get; }
    public long Kernel { get; }
    public long Stride { get; }
    public long Padding { get; }
    public long Groups { get; }

    public Parameter Weight => conv.weight!;
    public Parameter? Bias => conv.bias;

    public override Tensor forward(Tensor input) => conv.forward(input);

    public override string EmitOnnx(OnnxGraphBuilder graph, string input) => EmitFolded(graph, input, null);

    /// <summary>Emits the convolution with a following batch normalisation folded into its weights and bias.</summary>
    string IFoldsBatchNorm.EmitFolded(OnnxGraphBuilder graph, string input, BatchNorm2dLayer? batchNorm) => EmitFolded(graph, input, batchNorm);

    internal string EmitFolded(OnnxGraphBuilder graph, string input, BatchNorm2dLayer? batchNorm)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Tensor weight = Weight, bias = Bias ?? zeros(OutputChannels);
        if (batchNorm is not null)
        {
            var (scale, shift) = batchNorm.ScaleAndShift();
            weight = weight * scale.reshape(-1, 1, 1, 1);
            bias = bias * scale + shift;
        }
        string w = graph.AddFloats("conv_weight", Values(weight), OutputChannels, InputChannels / Groups, Kernel, Kernel);
        string b = graph.AddFloats("conv_bias", Values(bias), OutputChannels);
        return graph.Emit("Conv", "conv", [input, w, b],
            OnnxGraphBuilder.Ints("kernel_shape", Kernel, Kernel), OnnxGraphBuilder.Ints("strides", Stride, Stride),
            OnnxGraphBuilder.Ints("pads", Padding, Padding, Padding, Padding), OnnxGraphBuilder.Int("group", Groups));
    }

    public override long[] OutputShape(long[] inputShape)
    {
        if (inputShape.Length != 4 || inputShape[1] != InputChannels)
            throw new ArgumentException($"a convolution over {InputChannels} channels needs [N,{InputChannels},H,W], got [{string.Join(",", inputShape)}]");
        long Out(long size) => (size + 2 * Padding - Kernel) / Stride + 1;
        return [inputShape[0], OutputChannels, Out(inputShape[2]), Out(inputShape[3])];
    }
}
