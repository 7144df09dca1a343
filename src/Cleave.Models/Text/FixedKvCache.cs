using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cleave.Models.Text;

/// <summary>
/// One sequence's caches for a fixed-capacity stage: one native tensor per cache, allocated once for the stage's whole
/// context, [1, heads, C, head_size], and handed to ONNX Runtime as it is on every run, as both the past and the present.
/// A single-sequence run's graph writes its new rows in place; a batched decode step's rows are written by
/// <see cref="WriteRows"/>. Nothing ever moves the rows already there. Rows at and after the position are never read,
/// so a reset only rewinds the position.
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
                var (heads, headSize) = model.PastGeometry(i);
                Tensors[i] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, [1, heads, Capacity, headSize]);
                // Never read beyond the valid rows, but no allocator garbage (an earlier session's rows) stays in them either.
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

    /// <summary>The cache tensors in <see cref="KvCacheModel.PastNames"/> order, bound as the run's inputs and outputs.</summary>
    public OrtValue[] Tensors { get; }

    /// <summary>
    /// Writes <paramref name="tokens"/> new rows of cache <paramref name="index"/> at <paramref name="position"/>;
    /// <paramref name="rows"/> is laid out [heads, tokens, head_size], as the graph returns them. Returns the bytes written.
    /// </summary>
    public long WriteRows(int index, ReadOnlySpan<float> rows, int tokens, int position)
    {
        var (heads, headSize) = _model.PastGeometry(index);
        if ((uint)position > (uint)Capacity || tokens > Capacity - position)
            throw new ArgumentOutOfRangeException(nameof(position), $"rows {position}..{position + tokens - 1} are outside a cache of {Capacity}");
        if (rows.Length != heads * tokens * headSize) throw new ArgumentException($"{heads * tokens * headSize} values expected, not {rows.Length}", nameof(rows));
        var target = Tensors[index].GetTensorMutableDataAsSpan<float>();
        for (int h = 0; h < heads; h++)
            rows.Slice(h * tokens * headSize, tokens * headSize).CopyTo(target.Slice((h * Capacity + position) * headSize));
        return (long)rows.Length * sizeof(float);
    }

    /// <summary>
    /// Copies the first <paramref name="length"/> rows of cache <paramref name="index"/> into <paramref name="target"/>
    /// laid out [heads, stride, head_size] (rows [length, stride) untouched), as a batched graph's padded cache takes them.
    /// </summary>
    public void CopyRowsTo(int index, int length, Span<float> target, int stride)
    {
        var (heads, headSize) = _model.PastGeometry(index);
        var source = Tensors[index].GetTensorDataAsSpan<float>();
        for (int h = 0; h < heads; h++)
            source.Slice(h * Capacity * headSize, length * headSize).CopyTo(target.Slice(h * stride * headSize, length * headSize));
    }

    public void Dispose()
    {
        foreach (var tensor in Tensors) tensor?.Dispose();
    }
}
