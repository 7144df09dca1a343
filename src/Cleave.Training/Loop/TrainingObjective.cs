using static TorchSharp.torch;

namespace Cleave.Training.Loop;

/// <summary>
/// What a run minimises for one batch: the loss and, where the task has classes, the logits to score accuracy with.
/// Classification, distillation and bottleneck objectives are all this one shape.
/// </summary>
public delegate (Tensor Loss, Tensor? Logits) TrainingObjective(Tensor inputs, Tensor? labels);

/// <summary>Common objectives.</summary>
public static class Objectives
{
    /// <summary>Cross-entropy of <paramref name="model"/>'s logits against the labels.</summary>
    public static TrainingObjective CrossEntropy(Func<Tensor, Tensor> model) => (inputs, labels) =>
    {
        if (labels is null) throw new InvalidOperationException("cross-entropy needs labelled data");
        var logits = model(inputs);
        return (nn.functional.cross_entropy(logits, labels), logits);
    };

    /// <summary>
    /// Distillation: KL divergence from the teacher's softened distribution to the student's (temperature
    /// <paramref name="temperature"/>, scaled by T² as Hinton et al. do); needs no labels.
    /// </summary>
    public static TrainingObjective Distillation(Func<Tensor, Tensor> student, Func<Tensor, Tensor> teacher, double temperature = 1) => (inputs, _) =>
    {
        Tensor target;
        using (no_grad()) target = (teacher(inputs) / temperature).softmax(-1);
        var logits = student(inputs);
        // KL(teacher || student) summed over classes, averaged over the batch ("batchmean").
        var kl = (target * (target.clamp_min(1e-12).log() - (logits / temperature).log_softmax(-1))).sum() / inputs.shape[0];
        var loss = kl * (temperature * temperature);
        return (loss, logits);
    };
}
