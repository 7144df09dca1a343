using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cleave.Models.Text;

/// <summary>
/// One sequence's caches for a fixed-capacity stage: one native tensor per cache, allocated once for the stage's whole
/// context and handed to ONNX Runtime as it is on every run. A step writes its new rows in place (keys into the
/// transposed [heads, head_size, C] layout, values into [heads, C, head_size]); nothing ever moves the rows already
/// there. Rows at and after the position are masked by the graph, so a reset only rewinds the position.
/// </summary>
internal sealed class FixedKvCache : IDisposable
{
    private readonly KvCacheModel _model;

    public FixedKvCache(KvCacheModel model)
    {
        _model = model;
        Capacity = model.Capacity;
        Tensors = new OrtValue[model.PastNames.Length];
        try
        {
            for (int i = 0; i < Tensors.Length; i++)
            {
                var (heads, headSize, transposed) = model.PastGeometry(i);
                long[] shape = transposed ? [1, heads, headSize, Capacity] : [1, heads, Capacity, headSize];
                Tensors[i] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, shape);
                // Masked rows are multiplied by a zero weight: they must hold finite numbers, never allocator garbage.
                Tensors[i].GetTensorMutableDataAsSpan<float>().Clear();
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Capacity { get; }

    /// <summary>The cache tensors in <see cref="KvCacheModel.PastNames"/> order, bound as the run's inputs.</summary>
    public OrtValue[] Tensors { get; }

    /// <summary>
    /// Writes <paramref name="tokens"/> new rows of cache <paramref name="index"/> at <paramref name="position"/>;
    /// <paramref name="rows"/> is laid out [heads, tokens, head_size], as the graph returns them. Returns the bytes written.
    /// </summary>
    public long WriteRows(int index, ReadOnlySpan<float> rows, int tokens, int position)
    {
        var (heads, headSize, transposed) = _model.PastGeometry(index);
        if ((uint)position > (uint)Capacity || tokens > Capacity - position)
            throw new ArgumentOutOfRangeException(nameof(position), $"rows {position}..{position + tokens - 1} are outside a cache of {Capacity}");
        if (rows.Length != heads * tokens * headSize) throw new ArgumentException($"{heads * tokens * headSize} values expected, not {rows.Length}", nameof(rows));
        var target = Tensors[index].GetTensorMutableDataAsSpan<float>();
        for (int h = 0; h < heads; h++)
        {
            var source = rows.Slice(h * tokens * headSize, tokens * headSize);
            if (!transposed)
            {
                source.CopyTo(target.Slice((h * Capacity + position) * headSize));
                continue;
            }
            for (int t = 0; t < tokens; t++)
                for (int d = 0; d < headSize; d++)
                    target[(h * headSize + d) * Capacity + position + t] = source[t * headSize + d];
        }
        return (long)rows.Length * sizeof(float);
    }

    /// <summary>
    /// Copies the first <paramref name="length"/> rows of cache <paramref name="index"/> into <paramref name="target"/>
    /// laid out [heads, stride, head_size] (rows [length, stride) untouched), as a batched graph's padded cache takes them.
    /// </summary>
    public void CopyRowsTo(int index, int length, Span<float> target, int stride)
    {
        var (heads, headSize, transposed) = _model.PastGeometry(index);
        var source = Tensors[index].GetTensorDataAsSpan<float>();
        for (int h = 0; h < heads; h++)
        {
            var head = target.Slice(h * stride * headSize, length * headSize);
            if (!transposed)
            {
                source.Slice(h * Capacity * headSize, length * headSize).CopyTo(head);
                continue;
            }
            for (int d = 0; d < headSize; d++)
            {
                var column = source.Slice((h * headSize + d) * Capacity, length);
                for (int p = 0; p < length; p++) head[p * headSize + d] = column[p];
            }
        }
    }

    public void Dispose()
    {
        foreach (var tensor in Tensors) tensor?.Dispose();
    }
}
