using Cleave.Models.Onnx;
using static TorchSharp.torch;

namespace Cleave.Training.Layers;

/// <summary>Passes its input through (an adapter's starting point, a placeholder in a sequence).</summary>
public sealed class IdentityLayer() : ExportableLayer("identity")
{
    public override Tensor forward(Tensor input) => input.alias();

    public override string EmitOnnx(OnnxGraphBuilder graph, string input) => graph.Emit("Identity", "identity", [input]);

    public override long[] OutputShape(long[] inputShape) => inputShape;
}
