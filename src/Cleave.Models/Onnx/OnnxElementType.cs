using Cleave.Codecs;

namespace Cleave.Models.Onnx;

/// <summary>
/// ONNX tensor element types (the <c>TensorProto.DataType</c> numbers, which are part of the file format) and what
/// the rest of Cleave needs to know about them: a name, a size, and the matching codec data type where one exists.
/// </summary>
public static class OnnxElementType
{
    public const int Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7,
        String = 8, Bool = 9, Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, BFloat16 = 16;

    public static string Name(int elementType) => elementType switch
    {
        Float => "float32", UInt8 => "uint8", Int8 => "int8", UInt16 => "uint16", Int16 => "int16",
        Int32 => "int32", Int64 => "int64", String => "string", Bool => "bool", Float16 => "float16",
        Double => "float64", UInt32 => "uint32", UInt64 => "uint64", BFloat16 => "bfloat16",
        _ => $"onnx_type_{elementType}",
    };

    /// <summary>Parses a name written by <see cref="Name"/>; returns <see cref="Undefined"/> for anything else.</summary>
    public static int Parse(string name) => name switch
    {
        "float32" => Float, "uint8" => UInt8, "int8" => Int8, "uint16" => UInt16, "int16" => Int16,
        "int32" => Int32, "int64" => Int64, "string" => String, "bool" => Bool, "float16" => Float16,
        "float64" => Double, "uint32" => UInt32, "uint64" => UInt64, "bfloat16" => BFloat16,
        _ => Undefined,
    };

    /// <summary>Bytes per element, or 0 for types without a fixed size (strings, unknown).</summary>
    public static int SizeInBytes(int elementType) => elementType switch
    {
        Float or Int32 or UInt32 => 4,
        UInt8 or Int8 or Bool => 1,
        UInt16 or Int16 or Float16 or BFloat16 => 2,
        Int64 or Double or UInt64 => 8,
        _ => 0,
    };

    public static bool IsFloatingPoint(int elementType) => elementType is Float or Float16 or BFloat16 or Double;

    public static bool IsInteger(int elementType) =>
        elementType is UInt8 or Int8 or UInt16 or Int16 or Int32 or Int64 or UInt32 or UInt64;

    /// <summary>The codec-side data type for an ONNX element type, where the codecs know it.</summary>
    public static bool TryToTensorDataType(int elementType, out TensorDataType dataType)
    {
        dataType = elementType switch
        {
            Float => TensorDataType.Float32, Float16 => TensorDataType.Float16, BFloat16 => TensorDataType.BFloat16,
            Int8 => TensorDataType.Int8, UInt8 => TensorDataType.UInt8, Int32 => TensorDataType.Int32,
            Int64 => TensorDataType.Int64, _ => 0,
        };
        return dataType != 0;
    }
}
