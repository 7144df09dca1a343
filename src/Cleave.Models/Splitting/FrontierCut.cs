namespace Cleave.Models.Splitting;

/// <summary>
/// A cut found by walking the topological order: after <see cref="Position"/> value-dependent nodes have run,
/// exactly <see cref="Tensors"/> (plus shape-only <see cref="AuxiliaryTensors"/>) are still needed later.
/// </summary>
public sealed record FrontierCut(int Position, IReadOnlyList<string> Tensors, IReadOnlyList<string> AuxiliaryTensors)
{
    public bool IsMultiTensor => Tensors.Count > 1;
}
