namespace Cleave.Codecs;

/// <summary>Element types a tensor file or frame can carry. The numeric values are written in frames: never renumber.</summary>
public enum TensorDataType : byte
{
    Float32 = 1,
    Float16 = 2,
    BFloat16 = 3,
    Int8 = 4,
    UInt8 = 5,
    Int32 = 6,
    Int64 = 7,
}

public static class TensorDataTypeExtensions
{
    public static int SizeInBytes(this TensorDataType type) => type switch
    {
        TensorDataType.Float32 or TensorDataType.Int32 => 4,
        TensorDataType.Float16 or TensorDataType.BFloat16 => 2,
        TensorDataType.Int8 or TensorDataType.UInt8 => 1,
        TensorDataType.Int64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown tensor data type"),
    };

    public static bool IsDefined(this TensorDataType type) => type is >= TensorDataType.Float32 and <= TensorDataType.Int64;
}
