using System.Runtime.InteropServices;
using Cleave.Codecs;
using Cleave.Codecs.Npy;
using Cleave.Models.Onnx;

namespace Cleave.Models.Profiling;

/// <summary>
/// A dense tensor in managed memory with its ONNX element type: what the profiling and verification code feeds to
/// and reads from ONNX Runtime. <see cref="Data"/> is a <c>float[]</c>, <c>double[]</c>, <c>long[]</c>, <c>int[]</c>,
/// <c>byte[]</c>, <c>sbyte[]</c> or <c>bool[]</c> matching <see cref="ElementType"/>.
/// </summary>
public sealed class HostTensor
{
    public HostTensor(int elementType, long[] shape, Array data)
    {
        long count = 1;
        foreach (long d in shape) count *= d;
        if (data.LongLength != count)
            throw new ArgumentException($"tensor data has {data.LongLength} elements but shape [{string.Join(",", shape)}] needs {count}");
        Type expected = ClrType(elementType);
        if (data.GetType().GetElementType() != expected)
            throw new ArgumentException($"a {OnnxElementType.Name(elementType)} tensor needs {expected.Name}[] data, got {data.GetType().Name}");
        ElementType = elementType;
        Shape = shape;
        Data = data;
    }

    public int ElementType { get; }

    /// <summary>
    /// A tensor from a <c>.npy</c> file read by the codec library's reader (float64 files arrive as float32, bool as
    /// uint8; float16 is widened to float32, since models here take float32 inputs).
    /// </summary>
    public static HostTensor FromNpy(NpyArray array)
    {
        long[] shape = [.. array.Shape.Dimensions.ToArray().Select(d => (long)d)];
        var bytes = array.Data.Span;
        return array.DataType switch
        {
            TensorDataType.Float32 or TensorDataType.Float16 or TensorDataType.BFloat16 => new HostTensor(OnnxElementType.Float, shape, array.ToFloat32()),
            TensorDataType.Int64 => new HostTensor(OnnxElementType.Int64, shape, MemoryMarshal.Cast<byte, long>(bytes).ToArray()),
            TensorDataType.Int32 => new HostTensor(OnnxElementType.Int32, shape, MemoryMarshal.Cast<byte, int>(bytes).ToArray()),
            TensorDataType.UInt8 => new HostTensor(OnnxElementType.UInt8, shape, bytes.ToArray()),
            TensorDataType.Int8 => new HostTensor(OnnxElementType.Int8, shape, MemoryMarshal.Cast<byte, sbyte>(bytes).ToArray()),
            _ => throw new NotSupportedException($".npy data type {array.DataType} cannot feed a model"),
        };
    }

    public long[] Shape { get; }

    public Array Data { get; }

    public long ElementCount => Data.LongLength;

    /// <summary>Element <paramref name="index"/> as a double, for comparisons across types.</summary>
    public double ValueAt(long index) => Data switch
    {
        float[] f => f[index],
        double[] d => d[index],
        long[] l => l[index],
        int[] i => i[index],
        byte[] b => b[index],
        sbyte[] s => s[index],
        bool[] b => b[index] ? 1 : 0,
        _ => throw new NotSupportedException($"element type {OnnxElementType.Name(ElementType)}"),
    };

    public static Type ClrType(int elementType) => elementType switch
    {
        OnnxElementType.Float => typeof(float),
        OnnxElementType.Double => typeof(double),
        OnnxElementType.Int64 => typeof(long),
        OnnxElementType.Int32 => typeof(int),
        OnnxElementType.UInt8 => typeof(byte),
        OnnxElementType.Int8 => typeof(sbyte),
        OnnxElementType.Bool => typeof(bool),
        _ => throw new NotSupportedException($"tensors of element type {OnnxElementType.Name(elementType)} are not supported for running models yet"),
    };

    public static HostTensor Allocate(int elementType, long[] shape)
    {
        long count = 1;
        foreach (long d in shape) count *= d;
        return new HostTensor(elementType, shape, Array.CreateInstance(ClrType(elementType), count));
    }

    public override string ToString() => $"{OnnxElementType.Name(ElementType)}[{string.Join(",", Shape)}]";
}
