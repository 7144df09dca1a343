using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Cleave.Codecs.Npy;

/// <summary>
/// A dense, C-ordered tensor as a .npy file holds it: element type, shape and little-endian element bytes.
/// Immutable; the data is copied in on creation. Every instance can be written back with <see cref="NpyFile"/>.
/// </summary>
public sealed class NpyArray
{
    private readonly byte[] _data;

    // Takes ownership of data, which the caller has already sized and filled.
    internal NpyArray(TensorDataType dataType, TensorShape shape, byte[] data)
    {
        DataType = dataType;
        Shape = shape;
        _data = data;
    }

    public TensorDataType DataType { get; }
    public TensorShape Shape { get; }

    /// <summary>Element bytes, little-endian, C (row-major) order; exactly ElementCount * element size bytes.</summary>
    public ReadOnlyMemory<byte> Data => _data;

    public int ElementCount => Shape.ElementCount;

    /// <summary>A float32 array holding a copy of <paramref name="values"/>.</summary>
    public static NpyArray FromFloat32(ReadOnlySpan<float> values, TensorShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (values.Length != shape.ElementCount)
            throw new ArgumentException($"{values.Length} values do not fill shape {shape} ({shape.ElementCount} elements)", nameof(values));
        var data = new byte[values.Length * sizeof(float)];
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(values).CopyTo(data);
        }
        else
        {
            for (int i = 0; i < values.Length; i++)
                BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * sizeof(float)), values[i]);
        }
        return new NpyArray(TensorDataType.Float32, shape, data);
    }

    /// <summary>
    /// An array of any type .npy can carry (float32, float16, int8, uint8, int32, int64) from its little-endian bytes.
    /// BFloat16 is refused: NumPy has no standard dtype for it.
    /// </summary>
    public static NpyArray Create(TensorDataType type, TensorShape shape, ReadOnlySpan<byte> littleEndianData)
    {
        ArgumentNullException.ThrowIfNull(shape);
        _ = NpyElementType.DescrFor(type); // throws for types .npy cannot hold
        long expected = (long)shape.ElementCount * type.SizeInBytes();
        if (littleEndianData.Length != expected)
            throw new ArgumentException(
                $"{littleEndianData.Length} bytes do not match shape {shape} of {type} ({expected} bytes)", nameof(littleEndianData));
        return new NpyArray(type, shape, littleEndianData.ToArray());
    }

    /// <summary>
    /// The elements converted to float32. Float16, int8 and uint8 convert exactly; int32 and int64 values beyond
    /// +-2^24 are rounded to the nearest float32 (int64 may lose most of its precision).
    /// </summary>
    public float[] ToFloat32()
    {
        var values = new float[ElementCount];
        CopyToFloat32(values);
        return values;
    }

    /// <summary>Converts the elements to float32 into <paramref name="destination"/> (at least ElementCount long).</summary>
    public void CopyToFloat32(Span<float> destination)
    {
        int count = ElementCount;
        if (destination.Length < count)
            throw new ArgumentException($"destination holds {destination.Length} values, {count} are needed", nameof(destination));
        destination = destination[..count];
        ReadOnlySpan<byte> data = _data;
        switch (DataType)
        {
            case TensorDataType.Float32 when BitConverter.IsLittleEndian:
                MemoryMarshal.Cast<byte, float>(data).CopyTo(destination);
                break;
            case TensorDataType.Float32:
                for (int i = 0; i < count; i++) destination[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(i * 4)..]);
                break;
            case TensorDataType.Float16:
                for (int i = 0; i < count; i++) destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(data[(i * 2)..]);
                break;
            case TensorDataType.Int8:
                for (int i = 0; i < count; i++) destination[i] = (sbyte)data[i];
                break;
            case TensorDataType.UInt8:
                for (int i = 0; i < count; i++) destination[i] = data[i];
                break;
            case TensorDataType.Int32:
                for (int i = 0; i < count; i++) destination[i] = BinaryPrimitives.ReadInt32LittleEndian(data[(i * 4)..]);
                break;
            case TensorDataType.Int64:
                for (int i = 0; i < count; i++) destination[i] = BinaryPrimitives.ReadInt64LittleEndian(data[(i * 8)..]);
                break;
            default:
                throw new InvalidOperationException($"unexpected data type {DataType}");
        }
    }

    public override string ToString() => $"NpyArray {DataType} {Shape}";
}
