namespace Cleave.Codecs.Npy;

/// <summary>
/// How one element of a .npy file is stored (its <c>descr</c>, e.g. <c>'&lt;f4'</c>) and what it becomes in memory.
/// Reading normalises to little-endian; float64 is narrowed to float32 and bool is kept as uint8 (0/1), because
/// Cleave has neither type but users' files often do.
/// </summary>
internal readonly record struct NpyElementType(TensorDataType DataType, int FileItemSize, bool BigEndian, bool IsFloat64)
{
    /// <summary>The descr strings <see cref="Parse"/> accepts, for error messages.</summary>
    public const string SupportedList = "<f4, <f2, <f8 (read as float32), |i1, |u1, |b1 (read as uint8), <i4, <i8, or the same with '>'";

    /// <summary>The descr this writer emits for <paramref name="type"/> (always little-endian).</summary>
    public static string DescrFor(TensorDataType type) => type switch
    {
        TensorDataType.Float32 => "<f4",
        TensorDataType.Float16 => "<f2",
        TensorDataType.Int8 => "|i1",
        TensorDataType.UInt8 => "|u1",
        TensorDataType.Int32 => "<i4",
        TensorDataType.Int64 => "<i8",
        _ => throw new ArgumentException(
            $"{type} has no standard NumPy dtype; convert to float32 or float16 before writing .npy", nameof(type)),
    };

    /// <summary>Interprets a numpy typestr such as <c>&lt;f4</c>, <c>&gt;i8</c> or <c>|u1</c>.</summary>
    public static NpyElementType Parse(string descr)
    {
        ReadOnlySpan<char> code = descr;
        char order = '\0';
        if (code.Length > 0 && code[0] is '<' or '>' or '|' or '=')
        {
            order = code[0];
            code = code[1..];
        }
        (TensorDataType type, int size, bool isFloat64) = code switch
        {
            "f4" => (TensorDataType.Float32, 4, false),
            "f2" => (TensorDataType.Float16, 2, false),
            "f8" => (TensorDataType.Float32, 8, true),
            "i1" => (TensorDataType.Int8, 1, false),
            "u1" or "b1" => (TensorDataType.UInt8, 1, false),
            "i4" => (TensorDataType.Int32, 4, false),
            "i8" => (TensorDataType.Int64, 8, false),
            _ => throw new FrameFormatException(FrameError.BadDataType,
                $"unsupported .npy dtype '{descr}' (supported: {SupportedList})"),
        };
        if (size > 1 && order is not ('<' or '>'))
        {
            // '=' (native) and a missing order cannot be resolved in a file that may come from another machine.
            throw new FrameFormatException(FrameError.BadDataType,
                $".npy dtype '{descr}' does not state a byte order ('<' little-endian or '>' big-endian)");
        }
        return new NpyElementType(type, size, order == '>', isFloat64);
    }
}
