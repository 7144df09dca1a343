using Cleave.Models.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cleave.Training.Layers;

/// <summary>A fully connected layer over [N, in] (ONNX Gemm with transB).</summary>
public sealed class LinearLayer : ExportableLayer
{
    private readonly Linear linear;

    public LinearLayer(long inputs, long outputs) : base("linear")
    {
        Inputs = inputs;
        Outputs = outputs;
        linear = nn.Linear(inputs, outputs);
        RegisterComponents();
    }

    public long Inputs { get; }
    public long Outputs { get; }

    public override Tensor forward(Tensor input) => linear.forward(input);

    public override string EmitOnnx(OnnxGraphBuilder graph, string input)
    {
        string w = graph.AddFloats("linear_weight", Values(linear.weight!), Outputs, Inputs);
        string b = graph.AddFloats("linear_bias", Values(linear.bias!), Outputs);
        return graph.Emit("Gemm", "linear", [input, w, b], OnnxGraphBuilder.Int("transB", 1));
    }

    public override long[] OutputShape(long[] inputShape)
    {
        if (inputShape.Length != 2 || inputShape[1] != Inputs)
            throw new ArgumentException($"a linear layer over {Inputs} features needs [N,{Inputs}], got [{string.Join(",", inputShape)}]");
        return [inputShape[0], Outputs];
    }
}
