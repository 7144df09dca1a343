using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Cleave.Models.Onnx;

namespace Cleave.Models.Profiling;

/// <summary>
/// Reads a little-endian, C-ordered <c>.npy</c> file (float32, float64, int64, int32, uint8, int8, bool) into a
/// <see cref="HostTensor"/> to feed a model. Minimal on purpose: the codec library owns general .npy I/O; this
/// only serves <c>split --verify --input</c>.
/// </summary>
public static class NpyTensorReader
{
    public static HostTensor Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
            throw new InvalidDataException($"{path}: not a .npy file (bad magic)");
        int major = bytes[6];
        int headerLength, headerStart;
        if (major == 1) { headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)); headerStart = 10; }
        else if (major is 2 or 3) { headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)); headerStart = 12; }
        else throw new InvalidDataException($"{path}: unsupported .npy version {major}");
        if (headerStart + headerLength > bytes.Length) throw new InvalidDataException($"{path}: header runs past the end of the file");
        string header = Encoding.Latin1.GetString(bytes, headerStart, headerLength);

        string descr = Field(header, "descr", path).Trim('\'', '"', ' ');
        if (Field(header, "fortran_order", path).Trim() != "False")
            throw new InvalidDataException($"{path}: Fortran-ordered arrays are not supported");
        string shapeText = Field(header, "shape", path).Trim().TrimStart('(').TrimEnd(')');
        var shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();

        (int type, int size) = descr switch
        {
            "<f4" => (OnnxElementType.Float, 4), "<f8" => (OnnxElementType.Double, 8), "<i8" => (OnnxElementType.Int64, 8),
            "<i4" => (OnnxElementType.Int32, 4), "|u1" or "<u1" => (OnnxElementType.UInt8, 1),
            "|i1" or "<i1" => (OnnxElementType.Int8, 1), "|b1" => (OnnxElementType.Bool, 1),
            _ => throw new InvalidDataException($"{path}: dtype '{descr}' is not supported (use little-endian float32/64, int64/32, uint8, int8 or bool)"),
        };
        var tensor = HostTensor.Allocate(type, shape);
        int dataStart = headerStart + headerLength;
        long byteCount = tensor.ElementCount * size;
        if (bytes.Length - dataStart != byteCount)
            throw new InvalidDataException($"{path}: expected {byteCount} data bytes for shape ({shapeText}), found {bytes.Length - dataStart}");
        if (tensor.Data is bool[] flags)
            for (int i = 0; i < flags.Length; i++) flags[i] = bytes[dataStart + i] != 0;
        else
            Buffer.BlockCopy(bytes, dataStart, tensor.Data, 0, (int)byteCount);
        return tensor;
    }

    private static string Field(string header, string key, string path)
    {
        int at = header.IndexOf($"'{key}'", StringComparison.Ordinal);
        if (at < 0) throw new InvalidDataException($"{path}: header has no '{key}'");
        int colon = header.IndexOf(':', at);
        int end = key == "shape" ? header.IndexOf(')', colon) + 1 : header.IndexOf(',', colon);
        if (colon < 0 || end <= colon) throw new InvalidDataException($"{path}: malformed header near '{key}'");
        return header[(colon + 1)..end];
    }
}
