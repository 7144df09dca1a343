namespace Cleave.Training.Data;

/// <summary>
/// The same examples under another labelling: label l becomes <c>map[l]</c> (a fine class to its coarse category,
/// for a task tail that answers a different question about the same inputs). Examples keep their order.
/// </summary>
public sealed class RelabelledExamples : IExampleSet
{
    private readonly IExampleSet _source;
    private readonly IReadOnlyList<int> _map;

    public RelabelledExamples(IExampleSet source, IReadOnlyList<int> map, int classCount)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(map);
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        foreach (int target in map)
            if (target < 0 || target >= classCount) throw new ArgumentException($"the label map sends a class to {target}, outside 0..{classCount - 1}");
        _source = source;
        _map = map;
        ClassCount = classCount;
    }

    public int Count => _source.Count;
    public long[] ExampleShape => _source.ExampleShape;
    public int ClassCount { get; }
    public void Fill(int index, Span<float> destination) => _source.Fill(index, destination);

    public int Label(int index)
    {
        int label = _source.Label(index);
        if (label < 0) return label;
        if (label >= _map.Count) throw new InvalidDataException($"example {index} has class {label}; the label map covers 0..{_map.Count - 1}");
        return _map[label];
    }
}
