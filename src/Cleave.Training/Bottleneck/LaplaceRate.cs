using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cleave.Training.Bottleneck;

/// <summary>
/// A rate estimate for a code quantized with step 1: each channel's values are modelled as a zero-mean Laplace
/// distribution with a learned scale, and a value costs −log2 of the probability of its quantization bin
/// [v − ½, v + ½]. Fed with code + uniform noise (the training-time stand-in for rounding) it is a differentiable
/// upper-bound-like estimate of what an entropy coder spends; it is only used in training (the codec measures real bytes).
/// </summary>
public sealed class LaplaceRate : nn.Module
{
    private readonly Parameter logScale;

    public LaplaceRate(long channels) : base("laplace_rate")
    {
        logScale = new Parameter(zeros(channels));
        RegisterComponents();
    }

    /// <summary>Mean bits per element of a [N, C, ...] code.</summary>
    public Tensor BitsPerElement(Tensor code)
    {
        using var scope = NewDisposeScope();
        var shape = new long[code.dim()];
        Array.Fill(shape, 1L);
        shape[1] = -1;
        var scale = logScale.exp().clamp_min(1e-3).reshape(shape);
        var upper = Cdf(code + 0.5, scale);
        var lower = Cdf(code - 0.5, scale);
        var probability = (upper - lower).clamp_min(1e-9);
        return (-probability.log2()).mean().MoveToOuterDisposeScope();
    }

    private static Tensor Cdf(Tensor x, Tensor scale) => 0.5 + 0.5 * x.sign() * (1 - (-(x.abs() / scale)).exp());
}
