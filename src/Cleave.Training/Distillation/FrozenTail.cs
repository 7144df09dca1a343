using Cleave.Models.Onnx;
using Cleave.Training.Onnx;
using static TorchSharp.torch;

namespace Cleave.Training.Distillation;

/// <summary>
/// A split's tail as a frozen TorchSharp module: its parameters never change, but gradients flow through its operations
/// into whatever feeds it (a decoder, an adapter). Gives the tail's logits: the input of a final Softmax when the model
/// ends in one (the imported classifiers do), so losses work in log space without taking the log of probabilities.
/// </summary>
public sealed class FrozenTail : IDisposable
{
    private readonly OnnxModule _module;

    public FrozenTail(OnnxModel tail)
    {
        ArgumentNullException.ThrowIfNull(tail);
        _module = new OnnxModule(tail, trainable: false, name: "tail");
        _module.SetTrainable(false);
        if (_module.InputNames.Count != 1)
            throw new NotSupportedException($"the tail reads {_module.InputNames.Count} inputs ({string.Join(", ", _module.InputNames)}); training needs a single-input tail");
        InputName = _module.InputNames[0];
        string output = _module.OutputNames[0];
        var producer = tail.Graph.Producer(output);
        LogitsName = producer is { OpType: "Softmax" } ? producer.Inputs[0] : output;
    }

    /// <summary>The tail's (cut) input.</summary>
    public string InputName { get; }

    /// <summary>The tensor read as logits.</summary>
    public string LogitsName { get; }

    public OnnxModule Module => _module;

    /// <summary>Logits for a batch of cut tensors, flattened to [N, classes].</summary>
    public Tensor Logits(Tensor cut)
    {
        var result = _module.Run(new Dictionary<string, Tensor> { [InputName] = cut }, [LogitsName])[LogitsName];
        return result.dim() == 2 ? result : result.flatten(1);
    }

    public void Dispose() => _module.Dispose();
}
