using Cleave.Training.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Cleave.Training.Bottleneck;

/// <summary>
/// A learned bottleneck at a cut of C channels: a device-side encoder and a server-side decoder around the code that
/// Cleave's codecs quantize and entropy-code. Two designs (<see cref="BottleneckDesign"/>): <em>compact</em> (3x3 conv
/// to H channels, ReLU, 1x1 conv to K code channels, soft bound; decoder 3x3 conv to H, ReLU, 3x3 conv H to H, ReLU,
/// 1x1 conv back to C) learns everything from random weights; <em>residual</em> keeps the C channels and starts as the
/// training-free uniform quantizer (see <see cref="Residual"/>), so training can only refine a working codec.
/// </summary>
public sealed class ConvBottleneck : nn.Module<Tensor, Tensor>
{
    private readonly SequentialLayer encoder;
    private readonly SequentialLayer decoder;
    private readonly LaplaceRate rate;

    public ConvBottleneck(long channels, long codeChannels, long hidden, double bound) : base("bottleneck")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(codeChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hidden, 1);
        Channels = channels;
        CodeChannels = codeChannels;
        Bound = bound;
        encoder = new SequentialLayer(new Conv2dLayer(channels, hidden, 3), new ActivationLayer(), new Conv2dLayer(hidden, codeChannels, 1), new SoftBoundLayer(bound));
        decoder = new SequentialLayer(new Conv2dLayer(codeChannels, hidden, 3), new ActivationLayer(), new Conv2dLayer(hidden, hidden, 3), new ActivationLayer(),
            new Conv2dLayer(hidden, channels, 1));
        rate = new LaplaceRate(codeChannels);
        RegisterComponents();
    }

    private ConvBottleneck(long channels, double bound, SequentialLayer encoder, SequentialLayer decoder, double initialRateScale,
        ChannelGainLayer? encoderGain, ChannelGainLayer? decoderGain) : base("bottleneck")
    {
        Channels = channels;
        CodeChannels = channels;
        Bound = bound;
        this.encoder = encoder;
        this.decoder = decoder;
        rate = new LaplaceRate(channels, initialRateScale);
        EncoderGain = encoderGain;
        DecoderGain = decoderGain;
        RegisterComponents();
    }

    /// <summary>
    /// The residual design: code = B·tanh(r((x − μ) / (s·σ)) / B) with r = identity + a 3x3 conv/ReLU/1x1 conv branch
    /// whose last convolution starts at zero, and the decoder the mirror image (a zero-started refinement branch, then
    /// ·(s·σ) + μ). With per-channel μ and σ of the cut tensor it starts as a per-channel uniform quantizer of step
    /// <paramref name="stepSigmas"/>·σ clipped near ±B steps, the training-free codec's operating point; training
    /// moves the rate (the Laplace term) and the error the tail cares about (the KL term) from there, instead of learning
    /// an identity from random weights out of a few hundred images. With <paramref name="gains"/> a learned per-channel
    /// log-gain (<see cref="ChannelGainLayer"/>) sits before the soft bound, and another, independent one at the decoder's
    /// input, so training can scale each channel's code (and so its rate) by a factor per step; both start at 1.
    /// </summary>
    public static ConvBottleneck Residual(long channels, long hidden, double bound, ReadOnlySpan<float> mean, ReadOnlySpan<float> std, double stepSigmas,
        bool gains = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hidden, 1);
        if (mean.Length != channels || std.Length != channels) throw new ArgumentException($"need {channels} channel means and deviations, got {mean.Length} and {std.Length}");
        if (!(stepSigmas > 0) || !double.IsFinite(stepSigmas)) throw new ArgumentOutOfRangeException(nameof(stepSigmas), stepSigmas, "the step must be positive");
        var scale = new float[channels];
        for (int c = 0; c < channels; c++) scale[c] = (float)(stepSigmas * Math.Max(std[c], 1e-6f));
        var normalise = Diagonal(channels, scale, mean, inverse: true);
        var restore = Diagonal(channels, scale, mean, inverse: false);
        var encoderGain = gains ? new ChannelGainLayer(channels) : null;
        var decoderGain = gains ? new ChannelGainLayer(channels) : null;
        var encoder = encoderGain is null
            ? new SequentialLayer(normalise, ZeroStartedBranch(channels, hidden), new SoftBoundLayer(bound))
            : new SequentialLayer(normalise, ZeroStartedBranch(channels, hidden), encoderGain, new SoftBoundLayer(bound));
        var decoder = decoderGain is null
            ? new SequentialLayer(ZeroStartedBranch(channels, hidden), restore)
            : new SequentialLayer(decoderGain, ZeroStartedBranch(channels, hidden), restore);
        // The normalised code has a standard deviation of about 1/s per channel; a Laplace of that deviation has scale
        // 1/(s·√2). Starting there spares the rate model hundreds of steps of catching up with the code.
        return new ConvBottleneck(channels, bound, encoder, decoder, 1 / (stepSigmas * Math.Sqrt(2)), encoderGain, decoderGain);
    }

    /// <summary>A 1x1 convolution that is y = (x − μ)/s per channel (<paramref name="inverse"/>) or y = x·s + μ.</summary>
    private static Conv2dLayer Diagonal(long channels, float[] scale, ReadOnlySpan<float> mean, bool inverse)
    {
        var layer = new Conv2dLayer(channels, channels, 1);
        var weight = new float[channels * channels];
        var bias = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            weight[c * channels + c] = inverse ? 1 / scale[c] : scale[c];
            bias[c] = inverse ? -mean[c] / scale[c] : mean[c];
        }
        using var _ = no_grad();
        layer.Weight.copy_(tensor(weight).reshape(channels, channels, 1, 1));
        layer.Bias!.copy_(tensor(bias));
        return layer;
    }

    /// <summary>x + conv1x1(ReLU(conv3x3(x))) with the 1x1 convolution at zero: the identity until training moves it.</summary>
    private static ResidualLayer ZeroStartedBranch(long channels, long hidden)
    {
        var last = new Conv2dLayer(hidden, channels, 1);
        using (no_grad())
        {
            last.Weight.zero_();
            last.Bias!.zero_();
        }
        return new ResidualLayer(new SequentialLayer(new Conv2dLayer(channels, hidden, 3), new ActivationLayer(), last));
    }

    public long Channels { get; }
    public long CodeChannels { get; }
    public double Bound { get; }

    /// <summary>Runs on the device, after the head.</summary>
    public SequentialLayer Encoder => encoder;

    /// <summary>Runs on the server, before the tail.</summary>
    public SequentialLayer Decoder => decoder;

    public LaplaceRate Rate => rate;

    /// <summary>The encoder's learned log-gain (residual design with gains), else null.</summary>
    public ChannelGainLayer? EncoderGain { get; }

    /// <summary>The decoder's learned log-gain (residual design with gains), else null.</summary>
    public ChannelGainLayer? DecoderGain { get; }

    /// <summary>
    /// Parameters that live in log space (the gains and the rate model's scales): a step of the learning rate is a
    /// factor on them, so they take a larger learning rate than the convolutions (<see cref="BottleneckOptions.ScaleLearningRate"/>).
    /// </summary>
    public IEnumerable<TorchSharp.Modules.Parameter> LogScaleParameters()
    {
        yield return rate.LogScale;
        if (EncoderGain is not null) yield return EncoderGain.LogGain;
        if (DecoderGain is not null) yield return DecoderGain.LogGain;
    }

    /// <summary>Encoder, rounding (what a codec with step 1 does), decoder: the deployed path.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return decoder.forward(encoder.forward(input).round()).MoveToOuterDisposeScope();
    }
}
