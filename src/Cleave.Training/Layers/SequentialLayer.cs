using Cleave.Models.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cleave.Training.Layers;

/// <summary>Layers one after another; a batch normalisation right after a convolution (dense or predefined-sparse) is folded into it on export.</summary>
public sealed class SequentialLayer : ExportableLayer
{
    private readonly ModuleList<ExportableLayer> layers;

    public SequentialLayer(params ExportableLayer[] layers) : base("sequential")
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Length == 0) throw new ArgumentException("a sequence needs at least one layer");
        this.layers = new ModuleList<ExportableLayer>(layers);
        RegisterComponents();
    }

    public IReadOnlyList<ExportableLayer> Layers => [.. layers];

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input;
        foreach (var layer in layers) x = layer.forward(x);
        return (ReferenceEquals(x, input) ? x.alias() : x).MoveToOuterDisposeScope();
    }

    public override string EmitOnnx(OnnxGraphBuilder graph, string input)
    {
        string x = input;
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i] is IFoldsBatchNorm conv && i + 1 < layers.Count && layers[i + 1] is BatchNorm2dLayer norm && norm.Channels == conv.OutputChannels)
            {
                x = conv.EmitFolded(graph, x, norm);
                i++;
            }
            else x = layers[i].EmitOnnx(graph, x);
        }
        return x;
    }

    public override long[] OutputShape(long[] inputShape)
    {
        var shape = inputShape;
        foreach (var layer in layers) shape = layer.OutputShape(shape);
        return shape;
    }
}
