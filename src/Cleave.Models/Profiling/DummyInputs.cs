using Cleave.Models.Graph;
using Cleave.Models.Onnx;

namespace Cleave.Models.Profiling;

/// <summary>
/// Builds inputs for running a model when no real data is at hand: values for the symbolic dimensions of the graph
/// inputs (batch-like first axes 1, others <see cref="DefaultSequenceLength"/>,
/// or <see cref="DefaultImageSize"/> for the spatial axes of rank-4 floating-point inputs, unless the caller names a
/// value), and random tensors of the declared types. Integer inputs get values that every reasonable model accepts:
/// masks are all ones, token type ids zeros, position ids 0..S-1, other ids small random numbers.
/// </summary>
public static class DummyInputs
{
    public const long DefaultSequenceLength = 16;

    /// <summary>Default for symbolic spatial dimensions of image-like inputs (floating-point, rank 4): divisible by 32, as detectors need.</summary>
    public const long DefaultImageSize = 224;

    /// <summary>Values for every symbolic dimension of the graph inputs; a dimension with neither value nor name gets one of its own.</summary>
    public static Dictionary<string, long> ResolveSymbols(OnnxGraph graph, IReadOnlyDictionary<string, long>? overrides = null)
    {
        var symbols = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string input in graph.Inputs)
        {
            var type = graph.DeclaredType(input);
            var dims = type?.Dimensions;
            if (dims is null) continue;
            bool imageLike = dims.Count == 4 && OnnxElementType.IsFloatingPoint(type!.ElementType);
            for (int axis = 0; axis < dims.Count; axis++)
            {
                if (dims[axis].IsFixed) continue;
                string symbol = dims[axis].Symbol ?? AnonymousSymbol(input, axis);
                if (symbols.ContainsKey(symbol)) continue;
                symbols[symbol] = overrides is not null && overrides.TryGetValue(symbol, out long v) ? v
                    : axis == 0 ? 1 : imageLike ? DefaultImageSize : DefaultSequenceLength;
            }
        }
        if (overrides is not null)
            foreach (var (symbol, value) in overrides)
                if (!symbols.ContainsKey(symbol))
                    throw new ArgumentException($"'{symbol}' is not a symbolic dimension of the graph inputs (they are: {(symbols.Count == 0 ? "none" : string.Join(", ", symbols.Keys))})");
        return symbols;
    }

    /// <summary>Concrete shape of graph input <paramref name="input"/> under <paramref name="symbols"/>.</summary>
    public static long[] InputShape(OnnxGraph graph, string input, IReadOnlyDictionary<string, long> symbols)
    {
        var dims = graph.DeclaredType(input)?.Dimensions
            ?? throw new InvalidOperationException($"graph input '{input}' declares no shape; pass a real input tensor instead");
        var shape = new long[dims.Count];
        for (int axis = 0; axis < shape.Length; axis++)
            shape[axis] = dims[axis].Value ?? symbols[dims[axis].Symbol ?? AnonymousSymbol(input, axis)];
        return shape;
    }

    /// <summary>Random values for every graph input, reproducible from <paramref name="seed"/>.</summary>
    public static Dictionary<string, HostTensor> Create(OnnxGraph graph, IReadOnlyDictionary<string, long> symbols, int seed = 1234)
    {
        var random = new Random(seed);
        var result = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        foreach (string input in graph.Inputs)
        {
            int type = graph.DeclaredType(input)?.ElementType ?? OnnxElementType.Float;
            result[input] = Fill(input, type, InputShape(graph, input, symbols), random);
        }
        return result;
    }

    public static string AnonymousSymbol(string input, int axis) => $"{input}_dim{axis}";

    private static HostTensor Fill(string name, int type, long[] shape, Random random)
    {
        var tensor = HostTensor.Allocate(type, shape);
        string lower = name.ToLowerInvariant();
        long lastDim = shape.Length == 0 ? 1 : Math.Max(1, shape[^1]);
        switch (tensor.Data)
        {
            case float[] f:
                for (int i = 0; i < f.Length; i++) f[i] = (float)(random.NextDouble() * 2 - 1);
                break;
            case double[] d:
                for (int i = 0; i < d.Length; i++) d[i] = random.NextDouble() * 2 - 1;
                break;
            case long[] l:
                for (int i = 0; i < l.Length; i++) l[i] = IntegerValue(lower, i, lastDim, random);
                break;
            case int[] n:
                for (int i = 0; i < n.Length; i++) n[i] = (int)IntegerValue(lower, i, lastDim, random);
                break;
            case byte[] b:
                random.NextBytes(b);
                break;
            case sbyte[] s:
                for (int i = 0; i < s.Length; i++) s[i] = (sbyte)random.Next(-128, 128);
                break;
            case bool[] b:
                Array.Fill(b, true);
                break;
        }
        return tensor;
    }

    private static long IntegerValue(string lowerName, int index, long lastDim, Random random)
    {
        if (lowerName.Contains("mask", StringComparison.Ordinal)) return 1;
        if (lowerName.Contains("token_type", StringComparison.Ordinal) || lowerName.Contains("segment", StringComparison.Ordinal)) return 0;
        if (lowerName.Contains("position", StringComparison.Ordinal)) return index % lastDim;
        return random.Next(0, 100);
    }
}
