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

    /// <param name="channels">Code channels.</param>
    /// <param name="initialScale">The Laplace scale every channel starts at (1 unless the code's spread is known).</param>
    public LaplaceRate(long channels, double initialScale = 1) : base("laplace_rate")
    {
        if (!(initialScale > 0) || !double.IsFinite(initialScale)) throw new ArgumentOutOfRangeException(nameof(initialScale), initialScale, "the scale must be positive");
        logScale = new Parameter(full(channels, Math.Log(initialScale)));
        RegisterComponents();
    }

    /// <summary>The learned log-scales (one per channel).</summary>
    public Parameter LogScale => logScale;

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
