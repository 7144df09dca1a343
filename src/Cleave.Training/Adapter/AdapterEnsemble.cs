using Cleave.Training.Layers;
using static TorchSharp.torch;

namespace Cleave.Training.Adapter;

/// <summary>
/// K residual adapters (<see cref="ResidualAdapter.Create"/>, same channels, rank and depth) fused exactly into one whose
/// branch is the members' mean: y = x + (1/K) Σ_k branch_k(x). The 1x1 down convolutions are stacked along their outputs
/// (K·R channels), every 3x3 becomes one grouped convolution (groups = K: member k reads and writes only its own R
/// channels), and the 1x1 up convolutions are concatenated along their inputs and scaled by 1/K. ONNX Runtime then runs
/// one branch of three (or 2 + depth) convolutions rather than K branches, and the cut tensor and its bytes are unchanged.
/// </summary>
public static class AdapterEnsemble
{
    /// <summary>Most members.</summary>
    public const int MaxMembers = 16;

    public static ResidualLayer Fuse(IReadOnlyList<ResidualLayer> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count is < 1 or > MaxMembers) throw new ArgumentException($"an adapter ensemble needs 1..{MaxMembers} members, got {members.Count}");
        var convs = members.Select(Convolutions).ToList();
        int layers = convs[0].Count;
        if (layers < 3 || convs.Any(c => c.Count != layers || c.Zip(convs[0]).Any(p => p.First.Weight.shape.SequenceEqual(p.Second.Weight.shape) is false)))
            throw new ArgumentException("ensemble members must be residual adapters of the same channels, rank and depth");
        long k = members.Count, channels = convs[0][0].InputChannels, rank = convs[0][0].OutputChannels;
        using var noGrad = no_grad();
        var down = new Conv2dLayer(channels, k * rank, 1);
        down.Weight.copy_(cat(convs.Select(c => (Tensor)c[0].Weight).ToArray(), 0));
        down.Bias!.copy_(cat(convs.Select(c => (Tensor)c[0].Bias!).ToArray(), 0));
        var fused = new List<ExportableLayer> { down, new ActivationLayer() };
        for (int d = 1; d < layers - 1; d++)
        {
            // A grouped convolution's weight is [out, in/groups, k, k] with group g's outputs in rows g·R..(g+1)·R: the members' weights stacked.
            var mid = new Conv2dLayer(k * rank, k * rank, 3, groups: k);
            mid.Weight.copy_(cat(convs.Select(c => (Tensor)c[d].Weight).ToArray(), 0));
            mid.Bias!.copy_(cat(convs.Select(c => (Tensor)c[d].Bias!).ToArray(), 0));
            fused.AddRange([mid, new ActivationLayer()]);
        }
        var up = new Conv2dLayer(k * rank, channels, 1);
        up.Weight.copy_(cat(convs.Select(c => (Tensor)c[^1].Weight).ToArray(), 1) / k);
        up.Bias!.copy_(stack(convs.Select(c => (Tensor)c[^1].Bias!).ToArray()).mean([0]));
        fused.Add(up);
        return new ResidualLayer(new SequentialLayer([.. fused]));
    }

    /// <summary>Multiply-accumulates of the adapter's convolutions per cut tensor of <paramref name="height"/> x <paramref name="width"/> positions.</summary>
    public static long Macs(ResidualLayer adapter, long height, long width) =>
        Convolutions(adapter).Sum(c => c.OutputChannels * (c.InputChannels / c.Groups) * c.Kernel * c.Kernel) * height * width;

    private static List<Conv2dLayer> Convolutions(ResidualLayer adapter)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        if (adapter.Body is not SequentialLayer body) throw new ArgumentException("not a residual adapter (its body is not a sequence)");
        var convs = body.Layers.OfType<Conv2dLayer>().ToList();
        if (convs.Any(c => c.Bias is null)) throw new ArgumentException("residual adapter convolutions have biases");
        return convs;
    }
}
