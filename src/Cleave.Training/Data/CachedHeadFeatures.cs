using Cleave.Models.Onnx;
using Cleave.Models.Profiling;

namespace Cleave.Training.Data;

/// <summary>
/// The outputs of a frozen head, computed once on ONNX Runtime and kept in memory, so that training what comes after
/// the head (a bottleneck, a decoder, a tail) never pays for the head again. Labels are carried over.
/// </summary>
public sealed class CachedHeadFeatures : IExampleSet
{
    private readonly float[] _values;
    private readonly int[] _labels;
    private readonly int _each;

    private CachedHeadFeatures(float[] values, int[] labels, long[] shape, int classCount)
    {
        _values = values;
        _labels = labels;
        ExampleShape = shape;
        ClassCount = classCount;
        _each = (int)shape.Aggregate(1L, (a, b) => a * b);
    }

    /// <summary>
    /// Runs <paramref name="head"/> (its first input, the named output) over every example, <paramref name="batchSize"/>
    /// at a time. Refuses before running when the cache would exceed <paramref name="maxBytes"/>.
    /// </summary>
    public static CachedHeadFeatures Compute(OnnxModel head, string output, IExampleSet source, int batchSize = 16,
        long maxBytes = 4L << 30, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        using var runner = new OrtModelRunner(head.ToBytes(), intraOpThreads: TorchRuntime.DefaultThreads);
        string input = head.Graph.Inputs[0];
        int inputEach = (int)source.ExampleShape.Aggregate(1L, (a, b) => a * b);
        float[]? values = null;
        long[]? shape = null;
        var labels = new int[source.Count];
        for (int start = 0; start < source.Count; start += batchSize)
        {
            int n = Math.Min(batchSize, source.Count - start);
            var batch = new float[n * inputEach];
            for (int i = 0; i < n; i++)
            {
                source.Fill(start + i, batch.AsSpan(i * inputEach, inputEach));
                labels[start + i] = source.Label(start + i);
            }
            var result = runner.Run(new Dictionary<string, HostTensor> { [input] = new(OnnxElementType.Float, [n, .. source.ExampleShape], batch) }, [output])[output];
            if (result.Data is not float[] features) throw new InvalidDataException($"head output '{output}' is not float32");
            if (values is null)
            {
                shape = result.Shape[1..];
                long total = checked(shape.Aggregate(1L, (a, b) => a * b) * source.Count);
                if (total * sizeof(float) > maxBytes)
                    throw new InvalidOperationException($"caching '{output}' for {source.Count} examples needs {total * 4 / (1 << 20)} MiB, over the {maxBytes / (1 << 20)} MiB budget");
                values = new float[total];
            }
            features.CopyTo(values, (long)start * (values.LongLength / source.Count));
            progress?.Report(start + n);
        }
        return new CachedHeadFeatures(values ?? [], labels, shape ?? [], source.ClassCount);
    }

    public int Count => _labels.Length;
    public long[] ExampleShape { get; }
    public int ClassCount { get; }
    public void Fill(int index, Span<float> destination) => _values.AsSpan(index * _each, _each).CopyTo(destination);
    public int Label(int index) => _labels[index];
}
