using static TorchSharp.torch;

namespace Cleave.Training.Distillation;

/// <summary>Losses for training against a frozen teacher.</summary>
public static class DistillationLosses
{
    /// <summary>Mean over the batch of KL(teacher || softmax(logits)); teacher rows are probabilities.</summary>
    public static Tensor KlToTeacher(Tensor logits, Tensor teacher)
    {
        using var scope = NewDisposeScope();
        var logQ = nn.functional.log_softmax(logits, 1);
        var logP = teacher.clamp_min(1e-12).log();
        return ((teacher * (logP - logQ)).sum(1).mean()).MoveToOuterDisposeScope();
    }

    /// <summary>Cross-entropy of the logits against label indices (int64).</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor labels) => nn.functional.cross_entropy(logits, labels);

    /// <summary>Mean squared error normalised by <paramref name="variance"/> (the feature's variance): 1 means "no better than its mean".</summary>
    public static Tensor NormalisedMse(Tensor restored, Tensor target, double variance) =>
        nn.functional.mse_loss(restored, target) / variance;

    /// <summary>
    /// Squared error normalised per channel by <paramref name="channelVariance"/> ([C], the target's variance over the
    /// training set), averaged over batch, channels and positions: every channel counts alike whatever its scale, and 1
    /// means "no better than the channel's mean". <paramref name="restored"/> and <paramref name="target"/> are [N, C, ...].
    /// </summary>
    public static Tensor ChannelNormalisedMse(Tensor restored, Tensor target, Tensor channelVariance)
    {
        using var scope = NewDisposeScope();
        long[] shape = [.. Enumerable.Repeat(1L, (int)restored.dim())];
        shape[1] = -1;
        var squared = (restored - target).square() / channelVariance.reshape(shape);
        return squared.mean().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Squared error with channel c multiplied by <paramref name="channelWeights"/>[c] ([C]), averaged over batch, channels
    /// and positions: a task-weighted feature loss when the weights say what the consumer of the features reads
    /// (<see cref="TailFisher"/>); with weights 1/variance it is <see cref="ChannelNormalisedMse"/>.
    /// </summary>
    public static Tensor ChannelWeightedMse(Tensor restored, Tensor target, Tensor channelWeights)
    {
        using var scope = NewDisposeScope();
        long[] shape = [.. Enumerable.Repeat(1L, (int)restored.dim())];
        shape[1] = -1;
        var squared = (restored - target).square() * channelWeights.reshape(shape);
        return squared.mean().MoveToOuterDisposeScope();
    }

    /// <summary>The per-channel (population) variance over samples and positions of a batch of [N, C, ...] tensors (floored so that a dead channel cannot divide by zero).</summary>
    public static Tensor ChannelVariance(Tensor features)
    {
        using var scope = NewDisposeScope();
        var channelsFirst = features.transpose(0, 1).reshape(features.shape[1], -1);
        return channelsFirst.var(1, unbiased: false).clamp_min(1e-6).MoveToOuterDisposeScope();
    }
}
