using Cleave.Models.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Cleave.Training.Layers;

/// <summary>
/// A layer trained here that knows the ONNX nodes computing it, so that whatever is trained ships as ONNX and runs on
/// the same ONNX Runtime path as every other model (device and server never load TorchSharp). Export uses inference
/// form: batch normalisation with its running statistics, folded into the convolution before it where there is one.
/// </summary>
public abstract class ExportableLayer(string name) : nn.Module<Tensor, Tensor>(name)
{
    /// <summary>Appends the nodes that compute this layer from <paramref name="input"/>; returns the output's name.</summary>
    public abstract string EmitOnnx(OnnxGraphBuilder graph, string input);

    /// <summary>Output shape for an input shape (batch included), without running the layer.</summary>
    public abstract long[] OutputShape(long[] inputShape);

    protected static float[] Values(Tensor t)
    {
        using var cpu = t.detach().to_type(ScalarType.Float32).cpu().contiguous();
        return cpu.data<float>().ToArray();
    }
}
