namespace Cleave.Models.Importers.TfLite;

/// <summary>
/// A model uses operators (or operator variants) the importer cannot convert. All of them are listed at once, so a
/// user learns the whole gap from one run; nothing is written when this is thrown.
/// </summary>
public sealed class UnsupportedOperatorsException : NotSupportedException
{
    public UnsupportedOperatorsException(IReadOnlyList<string> operators)
        : base($"unsupported TFLite operator(s): {string.Join(", ", operators)}") => Operators = operators;

    /// <summary>Distinct operator names with use counts, e.g. "TOPK_V2 (x2)", or a variant with its reason.</summary>
    public IReadOnlyList<string> Operators { get; }
}
