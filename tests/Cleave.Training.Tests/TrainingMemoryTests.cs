using Cleave.Models.Tests;
using Cleave.Training.Onnx;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Cleave.Training.Tests;

/// <summary>Training at MobileNetV2 scale fits the memory budget.</summary>
public sealed class TrainingMemoryTests(ITestOutputHelper output)
{
    private const long BudgetBytes = 8L << 30;

    [AssetFact("vision/mobilenet_v2_1.0_224_quant.tflite")]
    public void MobileNetV2_forward_and_backward_at_batch_32_stays_under_8_GiB()
    {
        TorchRuntime.Initialise();
        var (model, spec) = ParityModels.Import("mobilenet_v2_1.0_224_quant.tflite");
        using var net = new OnnxModule(model, trainable: true);
        manual_seed(4);
        using var x = randn(32, 3, spec.Height, spec.Width);
        using (var scope = NewDisposeScope())
        {
            var logits = net.forward(x);
            var loss = nn.functional.cross_entropy(logits, randint(0, logits.shape[1], [32]));
            loss.backward();
            Assert.All(net.parameters(), p => Assert.NotNull(p.grad));
        }
        long peak = PeakResidentBytes();
        output.WriteLine($"peak RSS of the test process: {peak / (1 << 20)} MiB");
        Assert.True(peak < BudgetBytes, $"peak RSS {peak / (1 << 20)} MiB");
    }

    /// <summary>VmHWM: the process's peak resident set (everything this test host did so far included, an upper bound).</summary>
    private static long PeakResidentBytes()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        throw new InvalidOperationException("/proc/self/status has no VmHWM line");
    }
}
