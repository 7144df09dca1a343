using Cleave.Training.Bottleneck;
using static TorchSharp.torch;

namespace Cleave.Training.Tests;

/// <summary>
/// The residual bottleneck design must start as the training-free per-channel uniform quantizer (so training refines a
/// working codec) and still be trainable: its zero-started branches receive gradients.
/// </summary>
public sealed class ResidualBottleneckTests
{
    public ResidualBottleneckTests() => TorchRuntime.Initialise();

    [Fact]
    public void An_untrained_residual_bottleneck_is_a_per_channel_uniform_quantizer()
    {
        float[] mean = [0.5f, -1f, 0f];
        float[] std = [2f, 0.25f, 1f];
        const double step = 1.5, bound = 3;
        using var bottleneck = ConvBottleneck.Residual(3, 4, bound, mean, std, step);
        Assert.Equal(3, bottleneck.CodeChannels);
        var random = new Random(7);
        var values = new float[2 * 3 * 5 * 5];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 8 - 4);
        using var _ = no_grad();
        using var x = tensor(values).reshape(2, 3, 5, 5);
        using var restored = bottleneck.forward(x);
        var actual = restored.contiguous().data<float>().ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            int c = i / 25 % 3;
            double s = step * std[c];
            double code = Math.Round(bound * Math.Tanh((values[i] - mean[c]) / s / bound), MidpointRounding.ToEven);
            double expected = code * s + mean[c];
            Assert.True(Math.Abs(actual[i] - expected) <= 1e-4 * Math.Max(1, Math.Abs(expected)), $"element {i}: {actual[i]} vs {expected}");
        }
    }

    [Fact]
    public void The_zero_started_branches_receive_gradients()
    {
        using var bottleneck = ConvBottleneck.Residual(2, 3, 3, [0f, 0f], [1f, 1f], 1);
        using var x = randn(2, 2, 4, 4);
        using var restored = bottleneck.Decoder.forward(bottleneck.Encoder.forward(x));
        using var loss = (restored - x * 0.5).pow(2).mean();
        loss.backward();
        var zeroStarted = bottleneck.named_parameters().Where(p => p.name.Contains("weight") && p.parameter.abs().sum().item<float>() == 0).ToList();
        Assert.NotEmpty(zeroStarted);
        Assert.All(zeroStarted, p => Assert.True(p.parameter.grad is not null && p.parameter.grad.abs().sum().item<float>() > 0, $"{p.name} gets no gradient"));
    }

    [Fact]
    public void Wrong_channel_statistics_are_refused()
    {
        Assert.Throws<ArgumentException>(() => ConvBottleneck.Residual(3, 4, 3, [0f, 0f], [1f, 1f, 1f], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ConvBottleneck.Residual(2, 4, 3, [0f, 0f], [1f, 1f], 0));
    }
}
