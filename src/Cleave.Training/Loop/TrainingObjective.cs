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
        Tensor teacherLogits;
        using (no_grad()) teacherLogits = teacher(inputs);
        var logits = student(inputs);
        return (SoftenedKl(logits, teacherLogits, temperature), logits);
    };

    /// <summary>
    /// Knowledge distillation with labels (Hinton et al.): (1 - w) x cross-entropy against the labels plus w x the
    /// softened KL of <see cref="Distillation"/> (x T²), with w = <paramref name="teacherWeight"/>. Used to train a
    /// small (e.g. predefined-sparse) network from a trained larger one on the same labelled data.
    /// </summary>
    public static TrainingObjective DistillationWithLabels(Func<Tensor, Tensor> student, Func<Tensor, Tensor> teacher, double temperature, double teacherWeight)
    {
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be > 0");
        if (!(teacherWeight >= 0 && teacherWeight <= 1)) throw new ArgumentOutOfRangeException(nameof(teacherWeight), teacherWeight, "the teacher's weight must be in [0, 1]");
        return (inputs, labels) =>
        {
            if (labels is null) throw new InvalidOperationException("distillation with labels needs labelled data");
            Tensor teacherLogits;
            using (no_grad()) teacherLogits = teacher(inputs);
            var logits = student(inputs);
            var loss = (1 - teacherWeight) * nn.functional.cross_entropy(logits, labels) + teacherWeight * SoftenedKl(logits, teacherLogits, temperature);
            return (loss, logits);
        };
    }

    /// <summary>KL(teacher || student) of the distributions softened by T, summed over classes, averaged over the batch ("batchmean"), x T².</summary>
    private static Tensor SoftenedKl(Tensor logits, Tensor teacherLogits, double temperature)
    {
        var target = (teacherLogits / temperature).softmax(-1);
        var kl = (target * (target.clamp_min(1e-12).log() - (logits / temperature).log_softmax(-1))).sum() / logits.shape[0];
        return kl * (temperature * temperature);
    }
}
