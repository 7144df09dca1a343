using Cleave.Models.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Cleave.Training.Layers;

/// <summary>ReLU, or ReLU6 (exported as Clip 0..6, as the imported MobileNets write it).</summary>
public sealed class ActivationLayer(bool relu6 = false) : ExportableLayer(relu6 ? "relu6" : "relu")
{
    public bool IsRelu6 { get; } = relu6;

    public override Tensor forward(Tensor input) => IsRelu6 ? input.clamp(0, 6) : nn.functional.relu(input);

    public override string EmitOnnx(OnnxGraphBuilder graph, string input)
    {
        if (!IsRelu6) return graph.Emit("Relu", "relu", [input]);
        string min = graph.AddFloats("relu6_min", [0f]), max = graph.AddFloats("relu6_max", [6f]);
        return graph.Emit("Clip", "relu6", [input, min, max]);
    }

    public override long[] OutputShape(long[] inputShape) => inputShape;
}
