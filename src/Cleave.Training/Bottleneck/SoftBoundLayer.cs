using Cleave.Models.Onnx;
using Cleave.Training.Layers;
using static TorchSharp.torch;

namespace Cleave.Training.Bottleneck;

/// <summary>
/// B·tanh(x/B): keeps a bottleneck's code inside (−B, B) while passing gradients everywhere (a hard clip would stop
/// them at the bounds). A codec quantizing over the tensor's own min..max with 2B+1 levels then steps by about 1, the
/// step the training noise imitates.
/// </summary>
public sealed class SoftBoundLayer : ExportableLayer
{
    public SoftBoundLayer(double bound) : base("softbound")
    {
        if (!(bound > 0) || !double.IsFinite(bound)) throw new ArgumentOutOfRangeException(nameof(bound), bound, "the bound must be positive");
        Bound = bound;
    }

    public double Bound { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return ((input / Bound).tanh() * Bound).MoveToOuterDisposeScope();
    }

    public override string EmitOnnx(OnnxGraphBuilder graph, string input)
    {
        string inverse = graph.AddFloats("bound_inverse", [(float)(1 / Bound)]);
        string bound = graph.AddFloats("bound", [(float)Bound]);
        string tanh = graph.Emit("Tanh", "bounded_tanh", [graph.Emit("Mul", "bounded_scaled", [input, inverse])]);
        return graph.Emit("Mul", "bounded", [tanh, bound]);
    }

    public override long[] OutputShape(long[] inputShape) => inputShape;
}
