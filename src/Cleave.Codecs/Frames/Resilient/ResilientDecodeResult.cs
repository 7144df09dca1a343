namespace Cleave.Codecs;

/// <summary>What a resilient decode produced: the tensor's shape, its group count, and the groups it concealed.</summary>
public sealed record ResilientDecodeResult(TensorShape Shape, int Groups, IReadOnlyList<int> ConcealedGroups, bool HeaderFromSecondCopy)
{
    /// <summary>Groups that arrived with one flipped bit and were repaired (they are not concealed).</summary>
    public IReadOnlyList<int> RepairedGroups { get; init; } = [];

    /// <summary>True when no group had to be concealed.</summary>
    public bool IsIntact => ConcealedGroups.Count == 0;
}
