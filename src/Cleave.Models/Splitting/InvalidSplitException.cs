namespace Cleave.Models.Splitting;

/// <summary>
/// A requested cut is not usable: an unknown tensor name, or tensors whose removal does not separate the graph
/// inputs from its outputs. The message says why; <see cref="Suggestions"/> lists the nearest valid split points.
/// </summary>
public sealed class InvalidSplitException(string message, IReadOnlyList<string> suggestions)
    : ArgumentException(suggestions.Count == 0 ? message : $"{message}; nearest valid split points: {string.Join("; ", suggestions)}")
{
    public string Reason { get; } = message;

    /// <summary>Valid cuts near the requested one, each as comma-separated tensor names ready for <c>--at</c>.</summary>
    public IReadOnlyList<string> Suggestions { get; } = suggestions;
}
