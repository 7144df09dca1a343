using Cleave.Models.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Cleave.Training.Layers;

/// <summary>
/// A convolution with predefined sparsity: its connectivity is fixed before training and never learned. Output
/// channels fall into G groups, each reading only C_in/G input channels chosen by a seeded permutation of the input
/// channels (density 1/G). The pattern is stored compactly: (groups, seed) describe it, and the exported graph holds
/// it as a C_in-entry Gather index plus a grouped Conv. The permutation mixes channels across groups from layer to
/// layer, as a channel shuffle does, so stacked sparse layers still reach every input channel.
/// Why grouped rather than masked: a masked dense weight trains the same function but ONNX Runtime would still do
/// the dense work; a grouped Conv stores and computes only the kept connections (parameters and MACs both fall by G).
/// </summary>
public sealed class SparseConv2dLayer : ExportableLayer, IFoldsBatchNorm
{
    private readonly Conv2dLayer conv;
    private readonly long[] permutation;

    /// <param name="density">share of the dense layer's connections kept: 1/G for a whole number G dividing both channel counts</param>
    /// <param name="seed">seed of the input-channel permutation (the pattern); 0 keeps channels in order (plain grouped conv)</param>
    public SparseConv2dLayer(long inputChannels, long outputChannels, long kernel, double density, int seed, long stride = 1, long? padding = null)
        : base("sparse_conv2d")
    {
        long groups = GroupsFor(density);
        if (inputChannels % groups != 0 || outputChannels % groups != 0)
            throw new ArgumentException($"density 1/{groups} needs both channel counts divisible by {groups}, got {inputChannels} -> {outputChannels}", nameof(density));
        Groups = groups;
        Seed = seed;
        permutation = Permutation(inputChannels, seed);
        conv = new Conv2dLayer(inputChannels, outputChannels, kernel, stride, padding, groups: groups);
        RegisterComponents();
    }

    /// <summary>G for a density of 1/G; anything else is refused (the pattern is whole groups, nothing finer).</summary>
    public static long GroupsFor(double density)
    {
        if (!(density > 0 && density <= 1)) throw new ArgumentOutOfRangeException(nameof(density), density, "density must be in (0, 1]");
        long groups = (long)Math.Round(1 / density);
        if (Math.Abs(1.0 / groups - density) > 1e-6)
            throw new ArgumentException($"density {density} is not 1/G for a whole number G (try {1.0 / Math.Max(1, groups):0.####})", nameof(density));
        return groups;
    }

    public long InputChannels => conv.InputChannels;
    public long OutputChannels => conv.OutputChannels;
    public long Groups { get; }
    public int Seed { get; }
    public double Density => 1.0 / Groups;

    /// <summary>Input channel read at each position of the grouped convolution's input (group g reads positions g·C_in/G ...).</summary>
    public IReadOnlyList<long> InputPermutation => permutation;

    /// <summary>Weights the layer stores (dense: C_out·C_in·k², here divided by G), bias included.</summary>
    public long ParameterCount => conv.Weight.numel() + (conv.Bias?.numel() ?? 0);

    /// <summary>The seeded pattern: a Fisher-Yates shuffle driven by a fixed 64-bit generator (SplitMix64), so it never depends on the runtime's Random.</summary>
    public static long[] Permutation(long channels, int seed)
    {
        var order = new long[channels];
        for (long i = 0; i < channels; i++) order[i] = i;
        if (seed == 0) return order;
        ulong state = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL;
        for (long i = channels - 1; i > 0; i--)
        {
            state += 0x9E3779B97F4A7C15UL;
            ulong z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            long j = (long)(z % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    public override Tensor forward(Tensor input)
    {
        if (Seed == 0) return conv.forward(input);
        using var index = tensor(permutation, device: input.device);
        using var gathered = input.index_select(1, index);
        return conv.forward(gathered);
    }

    public override string EmitOnnx(OnnxGraphBuilder graph, string input) => EmitFolded(graph, input, null);

    public string EmitFolded(OnnxGraphBuilder graph, string input, BatchNorm2dLayer? batchNorm)
    {
        ArgumentNullException.ThrowIfNull(graph);
        string x = input;
        if (Seed != 0)
            x = graph.Emit("Gather", "sparse_gather", [input, graph.AddInt64s("sparse_permutation", permutation, permutation.Length)], OnnxGraphBuilder.Int("axis", 1));
        return conv.EmitFolded(graph, x, batchNorm);
    }

    public override long[] OutputShape(long[] inputShape) => conv.OutputShape(inputShape);
}
