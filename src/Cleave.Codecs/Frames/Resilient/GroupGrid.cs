namespace Cleave.Codecs;

/// <summary>
/// How a resilient frame cuts a tensor into independently decodable groups. The tensor is seen as P planes of H rows of
/// W values (W = the last dimension, H = the one before it, P = the product of the rest; a rank-1 tensor is one plane of
/// H = n rows of 1, a scalar one plane of one row): P is split into <see cref="PlaneGroups"/> runs of planes and H into
/// <see cref="RowBlocks"/> runs of rows, as evenly as integer division splits them, and group g covers plane run
/// g / RowBlocks and row run g mod RowBlocks. Each group is coded as its own tensor of <see cref="GroupShape"/>.
/// </summary>
internal sealed class GroupGrid
{
    private readonly int[] _dims;

    public GroupGrid(TensorShape shape, int planeGroups, int rowBlocks)
    {
        Shape = shape;
        _dims = shape.Dimensions.ToArray();
        int rank = _dims.Length;
        Width = rank >= 2 ? _dims[rank - 1] : 1;
        Height = rank >= 2 ? _dims[rank - 2] : rank == 1 ? _dims[0] : 1;
        long planes = 1;
        for (int i = 0; i < rank - 2; i++) planes *= _dims[i];
        Planes = (int)planes; // the shape holds at most 2^31 - 1 elements, and so at most that many planes when none is empty
        if (shape.ElementCount == 0) { Planes = Math.Max(Planes, 1); Height = Math.Max(Height, 1); }
        PlaneGroups = planeGroups;
        RowBlocks = rowBlocks;
        Count = planeGroups * rowBlocks;
    }

    public TensorShape Shape { get; }
    public int Planes { get; }
    public int Height { get; }
    public int Width { get; }
    public int PlaneGroups { get; }
    public int RowBlocks { get; }
    public int Count { get; }

    /// <summary>True when the split is legal for the shape: every group non-empty (an empty tensor has exactly one group).</summary>
    public bool IsValid =>
        PlaneGroups >= 1 && RowBlocks >= 1 &&
        (Shape.ElementCount == 0 ? Count == 1 : PlaneGroups <= Planes && RowBlocks <= Height);

    public static int Start(int total, int parts, int index) => (int)((long)total * index / parts);

    public (int First, int Count) PlaneRun(int group) => Run(Planes, PlaneGroups, group / RowBlocks);
    public (int First, int Count) RowRun(int group) => Run(Height, RowBlocks, group % RowBlocks);

    private static (int, int) Run(int total, int parts, int index)
    {
        int first = Start(total, parts, index);
        return (first, Start(total, parts, index + 1) - first);
    }

    public int ElementCount(int group) => Shape.ElementCount == 0 ? 0 : PlaneRun(group).Count * RowRun(group).Count * Width;

    /// <summary>The group's own tensor shape: the original rank, with its planes and rows narrowed to the group's.</summary>
    public TensorShape GroupShape(int group)
    {
        if (Shape.ElementCount == 0) return Shape;
        int rank = _dims.Length;
        int planes = PlaneRun(group).Count, rows = RowRun(group).Count;
        return rank switch
        {
            0 => Shape,
            1 => new TensorShape(rows),
            2 => new TensorShape(rows, Width),
            _ => new TensorShape([.. Enumerable.Repeat(1, rank - 3), planes, rows, Width]),
        };
    }

    /// <summary>Copies the group's values out of the whole tensor (plane by plane, row run by row run).</summary>
    public void Gather(int group, ReadOnlySpan<float> tensor, Span<float> destination)
    {
        if (Shape.ElementCount == 0) return;
        var (p0, pc) = PlaneRun(group);
        var (h0, hc) = RowRun(group);
        int run = hc * Width, at = 0;
        for (int p = p0; p < p0 + pc; p++, at += run)
            tensor.Slice((p * Height + h0) * Width, run).CopyTo(destination[at..]);
    }

    /// <summary>The inverse of <see cref="Gather"/>.</summary>
    public void Scatter(int group, ReadOnlySpan<float> source, Span<float> tensor)
    {
        if (Shape.ElementCount == 0) return;
        var (p0, pc) = PlaneRun(group);
        var (h0, hc) = RowRun(group);
        int run = hc * Width, at = 0;
        for (int p = p0; p < p0 + pc; p++, at += run)
            source.Slice(at, run).CopyTo(tensor[((p * Height + h0) * Width)..]);
    }
}
