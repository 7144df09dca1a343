using Cleave.Models.Onnx;

namespace Cleave.Models.Splitting;

/// <summary>What <c>cleave inspect</c> reports about a model (serialized with snake_case keys).</summary>
public sealed record ModelReport
{
    public string Model { get; init; } = "";
    public string Sha256 { get; init; } = "";
    public long IrVersion { get; init; }
    public string Producer { get; init; } = "";
    public IReadOnlyDictionary<string, long> Opsets { get; init; } = new Dictionary<string, long>();
    public IReadOnlyList<SplitTensor> Inputs { get; init; } = [];
    public IReadOnlyList<SplitTensor> Outputs { get; init; } = [];
    public IReadOnlyList<string> SideInputs { get; init; } = [];

    /// <summary>Values used for symbolic input dimensions in per-sample sizes, MACs and probing.</summary>
    public IReadOnlyDictionary<string, long> SymbolValues { get; init; } = new Dictionary<string, long>();

    public int NodeCount { get; init; }
    public long Parameters { get; init; }
    public long Macs { get; init; }

    /// <summary>Median latency of the whole model with <c>--profile</c>, else null.</summary>
    public double? FullMs { get; init; }

    public IReadOnlyList<SplitPointReport> SplitPoints { get; init; } = [];
}

/// <summary>One candidate split point. <see cref="Shape"/> and <see cref="Dtypes"/> are parallel to <see cref="Tensors"/>.</summary>
public sealed record SplitPointReport
{
    /// <summary>Position in the topological order of value-dependent nodes (how many of them the head runs, minus one).</summary>
    public int Position { get; init; }

    /// <summary>"single" (one tensor) or "multi" (a cut across parallel branches).</summary>
    public string Kind { get; init; } = "single";

    public IReadOnlyList<string> Tensors { get; init; } = [];

    /// <summary>Shape-only tensors carried with the cut (e.g. a causal mask sliced to the sequence length).</summary>
    public IReadOnlyList<string> AuxiliaryTensors { get; init; } = [];

    public IReadOnlyList<IReadOnlyList<TensorDimension>> Shape { get; init; } = [];
    public IReadOnlyList<string> Dtypes { get; init; } = [];

    /// <summary>Bytes per sample of the cut tensors as float32 (auxiliary tensors not included).</summary>
    public long? BytesFp32 { get; init; }

    /// <summary>Bytes per sample of the auxiliary tensors in their own types.</summary>
    public long? AuxiliaryBytes { get; init; }

    public long HeadParams { get; init; }
    public long TailParams { get; init; }
    public double HeadParamShare { get; init; }
    public long HeadMacs { get; init; }
    public long TailMacs { get; init; }
    public double HeadMacShare { get; init; }
    public double? HeadMs { get; init; }
    public double? TailMs { get; init; }
}
