using static TorchSharp.torch;

namespace Cleave.Training.Data;

/// <summary>
/// Batches of an <see cref="IExampleSet"/> as tensors. The batch for a given step depends only on the seed and the
/// step (each epoch is a seeded permutation), so a run resumed from a checkpoint sees exactly the batches the
/// uninterrupted run would have seen.
/// </summary>
public sealed class BatchLoader
{
    private readonly IExampleSet _examples;
    private readonly int _batchSize;
    private readonly int _seed;
    private readonly Augmentation? _augmentation;
    private readonly int _each;
    private int[]? _order;
    private long _orderEpoch = -1;

    public BatchLoader(IExampleSet examples, int batchSize, int seed, Augmentation? augmentation = null)
    {
        _examples = examples ?? throw new ArgumentNullException(nameof(examples));
        if (examples.Count == 0) throw new ArgumentException("the data set has no examples");
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _batchSize = Math.Min(batchSize, examples.Count);
        _seed = seed;
        _augmentation = augmentation;
        _each = checked((int)examples.ExampleShape.Aggregate(1L, (a, b) => a * b));
    }

    public int BatchSize => _batchSize;

    /// <summary>Batches per epoch (the last partial batch is dropped so every step has the same size).</summary>
    public int BatchesPerEpoch => _examples.Count / _batchSize;

    /// <summary>The shuffled (and augmented, when configured) training batch of <paramref name="step"/>.</summary>
    public (Tensor Inputs, Tensor? Labels) TrainingBatch(long step)
    {
        long epoch = step / BatchesPerEpoch;
        if (epoch != _orderEpoch)
        {
            _order = Enumerable.Range(0, _examples.Count).ToArray();
            new Random(HashCode.Combine(_seed, epoch)).Shuffle(_order);
            _orderEpoch = epoch;
        }
        int start = (int)(step % BatchesPerEpoch) * _batchSize;
        var (inputs, labels) = Gather(_order.AsSpan(start, _batchSize));
        if (_augmentation is null) return (inputs, labels);
        using (inputs) return (_augmentation.Apply(inputs, new Random(HashCode.Combine(_seed, step, 0x5eed))), labels);
    }

    /// <summary>Every example in order, <see cref="BatchSize"/> at a time (validation; the last batch may be smaller).</summary>
    public IEnumerable<(Tensor Inputs, Tensor? Labels)> InOrder()
    {
        for (int start = 0; start < _examples.Count; start += _batchSize)
        {
            int n = Math.Min(_batchSize, _examples.Count - start);
            yield return Gather(Enumerable.Range(start, n).ToArray());
        }
    }

    private (Tensor Inputs, Tensor? Labels) Gather(ReadOnlySpan<int> indices)
    {
        var values = new float[(long)indices.Length * _each];
        var labels = new long[indices.Length];
        bool labelled = _examples.ClassCount > 0;
        for (int i = 0; i < indices.Length; i++)
        {
            _examples.Fill(indices[i], values.AsSpan(i * _each, _each));
            labels[i] = _examples.Label(indices[i]);
        }
        var inputs = tensor(values).reshape([indices.Length, .. _examples.ExampleShape]);
        return (inputs, labelled ? tensor(labels) : null);
    }
}
