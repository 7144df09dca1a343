using System.Runtime.InteropServices;
using Cleave.Models.Onnx;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Cleave.Training.Onnx;

/// <summary>ONNX <see cref="TensorProto"/> values to TorchSharp tensors and back (the element types models use).</summary>
internal static class OnnxTensorConverter
{
    /// <summary>Largest initializer read (elements); a crafted file cannot make the reader allocate more.</summary>
    public const long MaxElements = 1L << 31;

    public static Tensor ToTorch(TensorProto t)
    {
        ArgumentNullException.ThrowIfNull(t);
        long count = 1;
        long[] dims = [.. t.Dims];
        foreach (long d in dims)
        {
            if (d < 0) throw new InvalidDataException($"initializer '{t.Name}' has a negative dimension");
            count = checked(count * d);
            if (count > MaxElements) throw new InvalidDataException($"initializer '{t.Name}' has more than {MaxElements} elements");
        }
        int size = OnnxElementType.SizeInBytes(t.DataType);
        if (!t.RawData.IsEmpty && size > 0 && t.RawData.Length != count * size)
            throw new InvalidDataException($"initializer '{t.Name}' holds {t.RawData.Length} bytes, its shape needs {count * size}");
        ReadOnlySpan<byte> raw = t.RawData.Span;
        Tensor flat = t.DataType switch
        {
            OnnxElementType.Float => tensor(raw.IsEmpty ? [.. t.FloatData] : MemoryMarshal.Cast<byte, float>(raw).ToArray()),
            OnnxElementType.Double => tensor(raw.IsEmpty ? [.. t.DoubleData] : MemoryMarshal.Cast<byte, double>(raw).ToArray()),
            OnnxElementType.Int64 => tensor(raw.IsEmpty ? [.. t.Int64Data] : MemoryMarshal.Cast<byte, long>(raw).ToArray()),
            OnnxElementType.Int32 => tensor(raw.IsEmpty ? [.. t.Int32Data] : MemoryMarshal.Cast<byte, int>(raw).ToArray()),
            OnnxElementType.UInt8 => tensor(raw.IsEmpty ? t.Int32Data.Select(v => (byte)v).ToArray() : raw.ToArray()),
            OnnxElementType.Int8 => tensor(raw.IsEmpty ? t.Int32Data.Select(v => (sbyte)v).ToArray() : MemoryMarshal.Cast<byte, sbyte>(raw).ToArray()),
            OnnxElementType.Bool => tensor(raw.IsEmpty ? t.Int32Data.Select(v => v != 0).ToArray() : raw.ToArray().Select(v => v != 0).ToArray()),
            OnnxElementType.Float16 => tensor(raw.IsEmpty
                ? t.Int32Data.Select(v => (float)BitConverter.UInt16BitsToHalf((ushort)v)).ToArray()
                : MemoryMarshal.Cast<byte, Half>(raw).ToArray().Select(h => (float)h).ToArray()).to_type(ScalarType.Float16),
            _ => throw new InvalidDataException($"initializer '{t.Name}' has element type {OnnxElementType.Name(t.DataType)}, which OnnxModule does not read"),
        };
        if (flat.numel() != count)
            throw new InvalidDataException($"initializer '{t.Name}' holds {flat.numel()} values, its shape needs {count}");
        return flat.reshape(dims);
    }

    /// <summary>The TorchSharp element type for an ONNX one (Cast's <c>to</c>).</summary>
    public static ScalarType ScalarTypeOf(int onnxElementType) => onnxElementType switch
    {
        OnnxElementType.Float => ScalarType.Float32,
        OnnxElementType.Double => ScalarType.Float64,
        OnnxElementType.Float16 => ScalarType.Float16,
        OnnxElementType.BFloat16 => ScalarType.BFloat16,
        OnnxElementType.Int64 => ScalarType.Int64,
        OnnxElementType.Int32 => ScalarType.Int32,
        OnnxElementType.Int16 => ScalarType.Int16,
        OnnxElementType.Int8 => ScalarType.Int8,
        OnnxElementType.UInt8 => ScalarType.Byte,
        OnnxElementType.Bool => ScalarType.Bool,
        _ => throw new NotSupportedException($"element type {OnnxElementType.Name(onnxElementType)} has no TorchSharp equivalent here"),
    };

    /// <summary>A float32 tensor's values as an initializer (for export).</summary>
    public static TensorProto FromTorch(string name, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        using var cpu = value.detach().to(ScalarType.Float32).cpu().contiguous();
        var proto = new TensorProto { Name = name, DataType = OnnxElementType.Float };
        proto.Dims.AddRange(cpu.shape);
        proto.RawData = Google.Protobuf.ByteString.CopyFrom(MemoryMarshal.AsBytes(cpu.data<float>().ToArray().AsSpan()));
        return proto;
    }
}
