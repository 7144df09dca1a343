namespace Cleave.Training.Data;

/// <summary>Some examples of another set, by index (a train or validation part).</summary>
public sealed class ExampleSubset : IExampleSet
{
    private readonly IExampleSet _source;
    private readonly int[] _indices;

    public ExampleSubset(IExampleSet source, IReadOnlyList<int> indices)
    {
        _source = source ?? throw new ArgumentNullException(nameof(source));
        ArgumentNullException.ThrowIfNull(indices);
        foreach (int i in indices)
            if ((uint)i >= (uint)source.Count) throw new ArgumentOutOfRangeException(nameof(indices), $"index {i} is outside 0..{source.Count - 1}");
        _indices = [.. indices];
    }

    public int Count => _indices.Length;
    public long[] ExampleShape => _source.ExampleShape;
    public int ClassCount => _source.ClassCount;
    public void Fill(int index, Span<float> destination) => _source.Fill(_indices[index], destination);
    public int Label(int index) => _source.Label(_indices[index]);

    /// <summary>
    /// A seeded split of <paramref name="source"/> into training and validation parts. It only ever divides the set it
    /// is given: images kept for the final evaluation belong in another folder (or another half), never in this set.
    /// </summary>
    public static (ExampleSubset Train, ExampleSubset Validation) Split(IExampleSet source, double validationFraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (validationFraction is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(validationFraction), "the validation fraction must be in [0, 1)");
        var order = Enumerable.Range(0, source.Count).ToArray();
        new Random(seed).Shuffle(order);
        int validation = (int)Math.Round(source.Count * validationFraction);
        if (source.Count - validation < 1) throw new ArgumentException("no examples left for training");
        return (new ExampleSubset(source, [.. order[validation..].Order()]), new ExampleSubset(source, [.. order[..validation].Order()]));
    }
}
