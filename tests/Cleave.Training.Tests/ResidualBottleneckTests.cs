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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_untrained_residual_bottleneck_is_a_per_channel_uniform_quantizer(bool gains)
    {
        float[] mean = [0.5f, -1f, 0f];
        float[] std = [2f, 0.25f, 1f];
        const double step = 1.5, bound = 3;
        using var bottleneck = ConvBottleneck.Residual(3, 4, bound, mean, std, step, gains);
        Assert.Equal(3, bottleneck.CodeChannels);
        Assert.Equal(gains, bottleneck.EncoderGain is not null);
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
    public void A_learned_gain_scales_the_code_by_a_factor_per_step_and_exports_as_one_Mul()
    {
        // The rate term has to shrink the code; the gains live in log space so one AdamW step at lr 0.1 moves the
        // code's scale by about e^-0.1 (10 %), where the normalising convolution's weights would move by 0.1 absolute.
        using var bottleneck = ConvBottleneck.Residual(2, 3, 3, [0f, 0f], [0.5f, 0.5f], 1, gains: true);
        var gain = bottleneck.EncoderGain!;
        Assert.Contains(gain.LogGain, bottleneck.LogScaleParameters());
        Assert.Contains(bottleneck.Rate.LogScale, bottleneck.LogScaleParameters());
        manual_seed(3);
        using var x = randn(4, 2, 6, 6);
        using var optimizer = TorchSharp.torch.optim.AdamW(bottleneck.LogScaleParameters(), 0.1, weight_decay: 0);
        double before;
        using (no_grad()) before = bottleneck.Encoder.forward(x).abs().mean().item<float>();
        for (int step = 0; step < 5; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var code = bottleneck.Encoder.forward(x);
            bottleneck.Rate.BitsPerElement(code + (rand_like(code) - 0.5)).backward();
            optimizer.step();
        }
        double after;
        using (no_grad()) after = bottleneck.Encoder.forward(x).abs().mean().item<float>();
        Assert.InRange(after / before, 0.45, 0.75); // five steps of about e^-0.1 each, shrinking under the rate alone
        // Export: one Mul by exp(g), the same numbers through ONNX Runtime.
        using var expected = gain.forward(x);
        var model = Cleave.Training.Export.LayerExport.ToModel(gain, [1, 2, 6, 6]);
        var ort = ParityModels.RunOrt(model, "input", [4, 2, 6, 6], x.contiguous().data<float>().ToArray(), "output")["output"];
        Assert.True(ParityModels.MaxRelativeDifference(expected, ort) <= 1e-5);
        Assert.Contains(model.Graph.Nodes, n => n.OpType == "Mul");
    }

    [Fact]
    public void Wrong_channel_statistics_are_refused()
    {
        Assert.Throws<ArgumentException>(() => ConvBottleneck.Residual(3, 4, 3, [0f, 0f], [1f, 1f, 1f], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ConvBottleneck.Residual(2, 4, 3, [0f, 0f], [1f, 1f], 0));
    }
}
