namespace Cleave.Codecs;

/// <summary>
/// The dimensions of a dense, C-ordered tensor. Immutable; a rank-0 shape is a scalar with one element.
/// </summary>
public sealed class TensorShape : IEquatable<TensorShape>
{
    /// <summary>Rank limit shared by the frame format and the .npy reader: deep enough for any feature tensor.</summary>
    public const int MaxRank = 8;

    private readonly int[] _dims;

    public TensorShape(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        if (dims.Length > MaxRank)
            throw new ArgumentException($"rank {dims.Length} exceeds the maximum of {MaxRank}", nameof(dims));
        long count = 1;
        foreach (int d in dims)
        {
            if (d < 0) throw new ArgumentException($"dimension {d} is negative", nameof(dims));
            count *= d;
            if (count > int.MaxValue)
                throw new ArgumentException($"shape [{string.Join(", ", dims)}] has more than {int.MaxValue} elements", nameof(dims));
        }
        _dims = (int[])dims.Clone();
        ElementCount = (int)count;
    }

    public int Rank => _dims.Length;
    public int ElementCount { get; }
    public int this[int axis] => _dims[axis];
    public ReadOnlySpan<int> Dimensions => _dims;

    /// <summary>Creates a shape from dimensions that may be too large, returning false instead of throwing.</summary>
    public static bool TryCreate(ReadOnlySpan<long> dims, out TensorShape? shape)
    {
        shape = null;
        if (dims.Length > MaxRank) return false;
        long count = 1;
        var copy = new int[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] < 0 || dims[i] > int.MaxValue) return false;
            count *= dims[i];
            if (count > int.MaxValue) return false;
            copy[i] = (int)dims[i];
        }
        shape = new TensorShape(copy);
        return true;
    }

    public bool Equals(TensorShape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);
    public override bool Equals(object? obj) => Equals(obj as TensorShape);
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (int d in _dims) hash.Add(d);
        return hash.ToHashCode();
    }
    public override string ToString() => "[" + string.Join("x", _dims) + "]";
}
