namespace Cleave.Models.Splitting;

/// <summary>Choices shared by inspecting and splitting a model.</summary>
public sealed record SplitOptions
{
    /// <summary>Graph inputs both halves may read; null applies the automatic rule (<see cref="SideInputPolicy"/>).</summary>
    public IReadOnlyCollection<string>? SideInputs { get; init; }

    /// <summary>Values for symbolic input dimensions (e.g. sequence length); others default to 1 (first axis), 224 (spatial axes of image-like inputs) or 16.</summary>
    public IReadOnlyDictionary<string, long>? SymbolValues { get; init; }

    /// <summary>Largest number of tensors (not counting shape-only ones) a multi-tensor candidate may have.</summary>
    public int MaxCutTensors { get; init; } = FrontierScanner.MaxTensors;

    /// <summary>Multi-tensor candidates reported per stretch between neighbouring single-tensor split points.</summary>
    public int MultiTensorCutsPerGap { get; init; } = 1;

    /// <summary>ONNX Runtime intra-op threads for probing, profiling and verifying; 0 lets ONNX Runtime decide.</summary>
    public int IntraOpThreads { get; init; }
}
