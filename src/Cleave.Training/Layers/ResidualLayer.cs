using Cleave.Models.Onnx;
using static TorchSharp.torch;

namespace Cleave.Training.Layers;

/// <summary>x + body(x): the body must keep the shape (residual blocks, SALT-style adapters).</summary>
public sealed class ResidualLayer : ExportableLayer
{
    private readonly ExportableLayer body;

    public ResidualLayer(ExportableLayer body) : base("residual")
    {
        this.body = body ?? throw new ArgumentNullException(nameof(body));
        RegisterComponents();
    }

    public ExportableLayer Body => body;

    public override Tensor forward(Tensor input) => input + body.forward(input);

    public override string EmitOnnx(OnnxGraphBuilder graph, string input) => graph.Emit("Add", "residual", [input, body.EmitOnnx(graph, input)]);

    public override long[] OutputShape(long[] inputShape)
    {
        var inner = body.OutputShape(inputShape);
        if (!inner.SequenceEqual(inputShape))
            throw new ArgumentException($"a residual body must keep the shape [{string.Join(",", inputShape)}], it gives [{string.Join(",", inner)}]");
        return inputShape;
    }
}
