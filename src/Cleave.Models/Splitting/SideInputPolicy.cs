using Cleave.Models.Graph;
using Cleave.Models.Onnx;

namespace Cleave.Models.Splitting;

/// <summary>
/// Decides which graph inputs are pass-through side inputs: values the client sends alongside the cut tensor, which
/// both halves may read (attention masks, position ids, token type ids). The caller's list wins; otherwise integer
/// or boolean inputs whose names look like masks or ids of positions/token types are side inputs.
/// </summary>
public static class SideInputPolicy
{
    private static readonly string[] AutomaticNameParts = ["mask", "position_ids", "position_id", "token_type_ids", "token_type", "segment_ids"];

    /// <summary>
    /// The side inputs of <paramref name="graph"/>. With <paramref name="declared"/> non-null, exactly those (every name
    /// must be a graph input); with null, the automatic rule.
    /// </summary>
    public static IReadOnlySet<string> Resolve(OnnxGraph graph, IReadOnlyCollection<string>? declared)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        if (declared is not null)
        {
            foreach (string name in declared)
            {
                if (!graph.IsGraphInput(name))
                    throw new ArgumentException($"side input '{name}' is not a graph input; the graph inputs are: {string.Join(", ", graph.Inputs)}");
                result.Add(name);
            }
        }
        else
        {
            foreach (string input in graph.Inputs)
                if (IsAutomaticSideInput(input, graph.DeclaredType(input)))
                    result.Add(input);
        }
        if (result.Count == graph.Inputs.Count && graph.Inputs.Count > 0)
            throw new ArgumentException($"every graph input ({string.Join(", ", graph.Inputs)}) would be a side input; at least one must be the main input the head consumes");
        return result;
    }

    public static bool IsAutomaticSideInput(string name, TensorType? type)
    {
        if (type is not null && !(OnnxElementType.IsInteger(type.ElementType) || type.ElementType == OnnxElementType.Bool))
            return false;
        string lower = name.ToLowerInvariant();
        foreach (string part in AutomaticNameParts)
            if (lower.Contains(part, StringComparison.Ordinal)) return true;
        return false;
    }
}
