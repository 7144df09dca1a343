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
}
