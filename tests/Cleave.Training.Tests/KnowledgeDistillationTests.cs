using Cleave.Training.Distillation;
using Cleave.Training.Export;
using Cleave.Training.Layers;
using Cleave.Training.Loop;
using static TorchSharp.torch;

namespace Cleave.Training.Tests;

/// <summary>An exported classifier teaching through ONNX Runtime, and the labels-plus-teacher loss.</summary>
public sealed class KnowledgeDistillationTests
{
    public KnowledgeDistillationTests() => TorchRuntime.Initialise();

    private static SequentialLayer Net() => new(
        new Conv2dLayer(1, 8, 3, stride: 2), new BatchNorm2dLayer(8), new ActivationLayer(),
        new SparseConv2dLayer(8, 16, 3, 0.5, seed: 4, stride: 2), new BatchNorm2dLayer(16), new ActivationLayer(),
        new PoolLayer(PoolKind.GlobalAverage), new LinearLayer(16, 10));

    [Fact]
    public void An_ONNX_teacher_gives_the_logits_of_the_module_it_was_exported_from()
    {
        manual_seed(5);
        using var net = Net();
        net.eval();
        using var x = randn(6, 1, 28, 28);
        using var expected = net.forward(x);
        using var teacher = new OnnxTeacher(LayerExport.ToModel(net, [1, 1, 28, 28]).ToBytes());
        using var logits = teacher.Logits(x);
        Assert.Equal(expected.shape, logits.shape);
        double range = expected.abs().max().item<float>();
        Assert.True((logits - expected).abs().max().item<float>() <= 1e-5 * range);
    }

    [Fact]
    public void The_loss_mixes_cross_entropy_and_the_softened_KL_by_the_teachers_weight()
    {
        manual_seed(6);
        using var studentLogits = randn(8, 10);
        using var teacherLogits = randn(8, 10);
        using var labels = randint(0, 10, [8], dtype: ScalarType.Int64);
        using var inputs = zeros(8, 1);
        Tensor Student(Tensor _) => studentLogits;
        Tensor Teacher(Tensor _) => teacherLogits;
        double ce = nn.functional.cross_entropy(studentLogits, labels).item<float>();
        double Loss(double weight, Func<Tensor, Tensor> teacher) =>
            Objectives.DistillationWithLabels(Student, teacher, temperature: 4, weight)(inputs, labels).Loss.item<float>();

        Assert.Equal(ce, Loss(0, Teacher), 5);
        // A teacher that agrees with the student adds nothing: KL = 0.
        Assert.Equal(0.5 * ce, Loss(0.5, Student), 5);
        double kl = Objectives.Distillation(Student, Teacher, temperature: 4)(inputs, null).Loss.item<float>();
        Assert.True(kl > 0);
        Assert.Equal(0.7 * ce + 0.3 * kl, Loss(0.3, Teacher), 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => Objectives.DistillationWithLabels(Student, Teacher, 4, 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Objectives.DistillationWithLabels(Student, Teacher, 0, 0.5));
    }
}
