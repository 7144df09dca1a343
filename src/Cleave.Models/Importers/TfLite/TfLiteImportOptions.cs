namespace Cleave.Models.Importers.TfLite;

/// <summary>Choices for <see cref="TfLiteImporter"/>; the defaults suit the Coral vision models.</summary>
public sealed record TfLiteImportOptions
{
    /// <summary>Name of the ONNX image input.</summary>
    public string InputName { get; init; } = "input";

    /// <summary>True: batch dimension "N"; false: fixed 1; null: symbolic when the graph allows it.</summary>
    public bool? SymbolicBatch { get; init; }

    /// <summary>Central crop recorded in the preprocessing metadata; null: 0.875 for classifiers, 1 otherwise.</summary>
    public double? CropFraction { get; init; }
}

/// <summary>What an import produced.</summary>
public sealed record TfLiteImportResult(
    string OutputPath,
    long OutputBytes,
    int OperatorCount,
    int NodeCount,
    bool SymbolicBatch,
    string InputName,
    IReadOnlyList<string> OutputNames,
    IReadOnlyDictionary<string, int> OperatorCounts,
    Preprocessing.PreprocessingSpec? Preprocessing);
