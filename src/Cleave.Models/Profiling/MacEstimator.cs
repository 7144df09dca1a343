using Cleave.Models.Graph;

namespace Cleave.Models.Profiling;

/// <summary>
/// Multiply-accumulate counts per node, estimated from shapes for the operators that dominate compute:
/// Conv/ConvInteger (output elements x input channels per group x kernel size), ConvTranspose (input elements x
/// output channels per group x kernel size), Gemm (M x N x K) and MatMul/MatMulInteger (output elements x the inner
/// dimension, batched). Every other operator counts 0. Shapes come from a lookup (declared or probed), with
/// symbolic dimensions resolved, so counts are per sample at the chosen sequence length.
/// </summary>
public static class MacEstimator
{
    public static bool Counts(string opType) =>
        opType is "Conv" or "ConvInteger" or "ConvTranspose" or "Gemm" or "MatMul" or "MatMulInteger";

    /// <summary>The MACs of one node, or 0 where the operator is not counted or a needed shape is unknown.</summary>
    public static long Estimate(GraphNode node, Func<string, long[]?> shapeOf)
    {
        var p = node.Proto;
        switch (node.OpType)
        {
            case "Conv" or "ConvInteger":
            {
                if (p.Input.Count < 2 || p.Output.Count < 1) return 0;
                var output = shapeOf(p.Output[0]);
                var weight = shapeOf(p.Input[1]);
                if (output is null || weight is null || weight.Length < 2) return 0;
                return Product(output) * Product(weight.AsSpan(1));
            }
            case "ConvTranspose":
            {
                if (p.Input.Count < 2) return 0;
                var input = shapeOf(p.Input[0]);
                var weight = shapeOf(p.Input[1]);
                if (input is null || weight is null || weight.Length < 2) return 0;
                return Product(input) * Product(weight.AsSpan(1));
            }
            case "Gemm":
            {
                if (p.Input.Count < 2 || p.Output.Count < 1) return 0;
                var a = shapeOf(p.Input[0]);
                var output = shapeOf(p.Output[0]);
                if (a is null || output is null || a.Length != 2) return 0;
                bool transA = false;
                foreach (var attr in p.Attribute)
                    if (attr.Name == "transA") transA = attr.I != 0;
                return Product(output) * (transA ? a[0] : a[1]);
            }
            case "MatMul" or "MatMulInteger":
            {
                if (p.Input.Count < 2 || p.Output.Count < 1) return 0;
                var a = shapeOf(p.Input[0]);
                var output = shapeOf(p.Output[0]);
                if (a is null || output is null || a.Length == 0) return 0;
                return Product(output) * a[^1];
            }
            default:
                return 0;
        }
    }

    private static long Product(ReadOnlySpan<long> dims)
    {
        long n = 1;
        foreach (long d in dims) n *= d;
        return n;
    }
}
