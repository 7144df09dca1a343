using Cleave.Models.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Cleave.Training.Layers;

/// <summary>What a <see cref="PoolLayer"/> computes.</summary>
public enum PoolKind
{
    Max,
    Average,
    /// <summary>Average over the whole plane, then flattened to [N, C] (a classifier's head).</summary>
    GlobalAverage,
}

/// <summary>Max or average pooling without padding, or global average pooling to [N, C].</summary>
public sealed class PoolLayer(PoolKind kind, long kernel = 2, long? stride = null) : ExportableLayer("pool")
{
    public PoolKind Kind { get; } = kind;
    public long Kernel { get; } = kernel;
    public long Stride { get; } = stride ?? kernel;

    public override Tensor forward(Tensor input) => Kind switch
    {
        PoolKind.Max => nn.functional.max_pool2d(input, Kernel, Stride),
        PoolKind.Average => nn.functional.avg_pool2d(input, Kernel, Stride),
        _ => input.mean([2, 3]),
    };

    public override string EmitOnnx(OnnxGraphBuilder graph, string input) => Kind switch
    {
        PoolKind.Max => graph.Emit("MaxPool", "maxpool", [input], OnnxGraphBuilder.Ints("kernel_shape", Kernel, Kernel), OnnxGraphBuilder.Ints("strides", Stride, Stride)),
        PoolKind.Average => graph.Emit("AveragePool", "avgpool", [input], OnnxGraphBuilder.Ints("kernel_shape", Kernel, Kernel), OnnxGraphBuilder.Ints("strides", Stride, Stride)),
        _ => graph.Emit("Flatten", "pooled", [graph.Emit("GlobalAveragePool", "gap", [input])], OnnxGraphBuilder.Int("axis", 1)),
    };

    public override long[] OutputShape(long[] inputShape) => Kind == PoolKind.GlobalAverage
        ? [inputShape[0], inputShape[1]]
        : [inputShape[0], inputShape[1], (inputShape[2] - Kernel) / Stride + 1, (inputShape[3] - Kernel) / Stride + 1];
}
