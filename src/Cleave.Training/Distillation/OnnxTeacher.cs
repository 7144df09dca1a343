using Cleave.Models.Onnx;
using Cleave.Models.Profiling;
using static TorchSharp.torch;

namespace Cleave.Training.Distillation;

/// <summary>
/// A trained classifier in ONNX run by ONNX Runtime as a frozen teacher: float images in (its first input), logits out
/// (its first output) as a TorchSharp tensor. Why ONNX rather than a TorchSharp module: any exported network (e.g. the
/// dense exit CNN's model.onnx) can teach, without its training code or a weight format of its own.
/// </summary>
public sealed class OnnxTeacher : IDisposable
{
    private readonly OrtModelRunner _runner;
    private readonly string _input;
    private readonly string _output;

    public OnnxTeacher(byte[] model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _runner = new OrtModelRunner(model, TorchRuntime.DefaultThreads);
        _input = _runner.InputNames[0];
        _output = _runner.OutputNames[0];
    }

    public static OnnxTeacher Load(string path) => new(File.ReadAllBytes(path));

    /// <summary>The teacher's logits for a batch of images (no gradient; the result is a new CPU tensor).</summary>
    public Tensor Logits(Tensor inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        using var cpu = inputs.detach().cpu().to_type(ScalarType.Float32).contiguous();
        var values = cpu.data<float>().ToArray();
        var result = _runner.Run(new Dictionary<string, HostTensor> { [_input] = new(OnnxElementType.Float, cpu.shape, values) }, [_output])[_output];
        if (result.Data is not float[] logits) throw new InvalidDataException($"teacher output '{_output}' is not float32");
        if (result.Shape.Length != 2 || result.Shape[0] != inputs.shape[0])
            throw new InvalidDataException($"teacher output '{_output}' has shape [{string.Join(",", result.Shape)}], not [{inputs.shape[0]}, classes]");
        return tensor(logits, result.Shape, device: inputs.device);
    }

    public void Dispose() => _runner.Dispose();
}
