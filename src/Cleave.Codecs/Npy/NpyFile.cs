using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Cleave.Codecs.Npy;

/// <summary>
/// Reads and writes NumPy <c>.npy</c> files (format 1.0 and 2.0; 3.0 is read too), so features can come from and go
/// to any framework. Layout: the magic <c>\x93NUMPY</c>, major and minor version bytes, the header length
/// (little-endian u16 in 1.0, u32 in 2.0/3.0), a Python dict literal padded with spaces and ended by '\n' so the data
/// starts at a multiple of 64, then the elements in C order.
/// </summary>
/// <remarks>
/// <para>Reading accepts float32, float16, int8, uint8, int32 and int64 in either byte order and returns them
/// little-endian; float64 is narrowed to float32 (values beyond float32's range become infinities) and bool is read
/// as uint8. <c>fortran_order: True</c> is refused unless the array has at most one dimension longer than 1 or no
/// elements, where both orders are the same bytes.</para>
/// <para>Trailing data: <see cref="Read(Stream, DecodeLimits?)"/> consumes exactly one array and leaves the stream
/// just after it, so arrays saved back to back (repeated <c>np.save</c> to one open file) can be read in turn.
/// <see cref="Read(string, DecodeLimits?)"/> refuses a file with bytes after the data (<see cref="FrameError.TrailingBytes"/>):
/// a header whose shape does not cover the whole file is more often a mistake than an intent, and reading a prefix
/// silently would hide it.</para>
/// <para>Every malformed input is a <see cref="FrameFormatException"/>; nothing larger than
/// <see cref="DecodeLimits.MaxDecodedBytes"/> is allocated (counting at least 4 bytes per element, as float32).</para>
/// </remarks>
public static class NpyFile
{
    /// <summary>Largest header accepted; numpy's own headers are under 200 bytes, page-aligning writers under 4 KiB.</summary>
    public const int MaxHeaderBytes = 1024 * 1024;

    private const int Alignment = 64;
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private static readonly Encoding StrictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static NpyArray Read(string path, DecodeLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        NpyArray array = Read(stream, limits);
        long trailing = stream.Length - stream.Position;
        if (trailing > 0)
            throw new FrameFormatException(FrameError.TrailingBytes,
                $"{trailing} bytes follow the array data in '{path}' (its header says shape {FormatShape(array.Shape.Dimensions)}); " +
                "the file is damaged or its header wrong; to read arrays saved back to back, use NpyFile.Read(Stream)");
        return array;
    }

    /// <summary>Reads one array and leaves <paramref name="stream"/> positioned just after its data.</summary>
    public static NpyArray Read(Stream stream, DecodeLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        limits ??= DecodeLimits.Default;

        Span<byte> prefix = stackalloc byte[8];
        int got = stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
        int magicSeen = Math.Min(got, Magic.Length);
        if (!prefix[..magicSeen].SequenceEqual(Magic[..magicSeen]))
            throw new FrameFormatException(FrameError.BadMagic,
                $"not a .npy file: it starts with {Convert.ToHexString(prefix[..magicSeen])}, not the magic 934E554D5059 (\\x93NUMPY)");
        if (got < prefix.Length)
            throw new FrameFormatException(FrameError.Truncated,
                got == 0 ? "truncated .npy: the input is empty" : $"truncated .npy: only {got} bytes, less than the 8-byte magic and version");

        byte major = prefix[6], minor = prefix[7];
        if (minor != 0 || major is < 1 or > 3)
            throw new FrameFormatException(FrameError.UnsupportedVersion,
                $".npy format version {major}.{minor} is not supported (1.0, 2.0 and 3.0 are)");

        Span<byte> lengthBytes = stackalloc byte[major == 1 ? 2 : 4];
        ReadExactly(stream, lengthBytes, "the header length");
        long headerLength = major == 1
            ? BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes)
            : BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes)
            throw new FrameFormatException(FrameError.LimitExceeded,
                $".npy header length {headerLength} exceeds the {MaxHeaderBytes}-byte cap");
        EnsureRemaining(stream, headerLength, "the header");
        var headerBytes = new byte[headerLength];
        ReadExactly(stream, headerBytes, "the header");

        string headerText;
        try
        {
            headerText = major == 3 ? StrictUtf8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        }
        catch (DecoderFallbackException)
        {
            throw new FrameFormatException(FrameError.BadParameters, "malformed .npy header dict: a version 3.0 header is not valid UTF-8");
        }

        (string descr, bool fortranOrder, long[] dims) = NpyHeaderParser.Parse(headerText);
        NpyElementType element = NpyElementType.Parse(descr);
        TensorShape shape = CheckShape(dims, fortranOrder, element, descr, limits);

        long fileBytes = (long)shape.ElementCount * element.FileItemSize;
        string dataDescription = $"the data of shape {FormatShape(dims)} '{descr}'";
        EnsureRemaining(stream, fileBytes, dataDescription);
        byte[] data = element.IsFloat64
            ? ReadFloat64AsFloat32(stream, shape.ElementCount, element.BigEndian, dataDescription)
            : ReadElements(stream, fileBytes, element, dataDescription);
        return new NpyArray(element.DataType, shape, data);
    }

    public static (float[] Values, TensorShape Shape) ReadFloat32(string path, DecodeLimits? limits = null)
    {
        NpyArray array = Read(path, limits);
        return (array.ToFloat32(), array.Shape);
    }

    /// <summary>
    /// Writes <paramref name="array"/> to <paramref name="path"/> atomically: into a temporary file in the same folder,
    /// flushed to disk, then moved over the target, so a failed write leaves any previous file intact.
    /// </summary>
    public static void Write(string path, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(array);
        IO.AtomicFile.Write(path, stream => Write(stream, array));
    }

    /// <summary>Writes a version 1.0 file (2.0 only if the header outgrows 1.0's 64 KiB, which no rank-8 shape does).</summary>
    public static void Write(Stream stream, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(array);
        stream.Write(EncodeHeader(NpyElementType.DescrFor(array.DataType), array.Shape.Dimensions));
        stream.Write(array.Data.Span);
    }

    public static void WriteFloat32(string path, ReadOnlySpan<float> values, TensorShape shape) =>
        Write(path, NpyArray.FromFloat32(values, shape));

    /// <summary>Magic, version, header length and the padded header dict, ready to precede the data.</summary>
    internal static byte[] EncodeHeader(string descr, ReadOnlySpan<int> shape, int minimumMajorVersion = 1)
    {
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {FormatShape(shape)}, }}";
        int major = minimumMajorVersion;
        while (true)
        {
            int lengthSize = major == 1 ? 2 : 4;
            int prefixSize = Magic.Length + 2 + lengthSize;
            int unpadded = prefixSize + dict.Length + 1; // + the closing '\n'
            int padding = (Alignment - unpadded % Alignment) % Alignment;
            int headerLength = dict.Length + padding + 1;
            if (major == 1 && headerLength > ushort.MaxValue) { major = 2; continue; }

            var bytes = new byte[prefixSize + headerLength];
            Magic.CopyTo(bytes);
            bytes[6] = (byte)major;
            bytes[7] = 0;
            if (lengthSize == 2) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)headerLength);
            else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)headerLength);
            int at = prefixSize + Encoding.ASCII.GetBytes(dict, bytes.AsSpan(prefixSize));
            bytes.AsSpan(at, padding).Fill((byte)' ');
            bytes[^1] = (byte)'\n';
            return bytes;
        }
    }

    private static TensorShape CheckShape(long[] dims, bool fortranOrder, NpyElementType element, string descr, DecodeLimits limits)
    {
        if (dims.Length > TensorShape.MaxRank)
            throw new FrameFormatException(FrameError.BadShape,
                $".npy shape {FormatShape(dims)} has rank {dims.Length}, more than the maximum of {TensorShape.MaxRank}");

        if (fortranOrder)
        {
            // With at most one axis longer than 1, or no elements at all, both orders are the same bytes.
            int longAxes = 0;
            bool empty = false;
            foreach (long d in dims)
            {
                if (d > 1) longAxes++;
                if (d == 0) empty = true;
            }
            if (longAxes > 1 && !empty)
                throw new FrameFormatException(FrameError.BadParameters,
                    $".npy array of shape {FormatShape(dims)} is stored in Fortran (column-major) order, which is not supported; " +
                    "save it with np.save(path, np.ascontiguousarray(a))");
        }

        // Same running-product rule as TensorShape, so anything past this point constructs without throwing.
        long count = 1;
        foreach (long d in dims)
        {
            if (d > int.MaxValue)
                throw new FrameFormatException(FrameError.LimitExceeded,
                    $".npy shape {FormatShape(dims)} has a dimension larger than {int.MaxValue}");
            count *= d;
            if (count > int.MaxValue)
                throw new FrameFormatException(FrameError.LimitExceeded,
                    $".npy shape {FormatShape(dims)} has more than {int.MaxValue} elements");
        }
        long bytes = count * Math.Max(element.DataType.SizeInBytes(), sizeof(float));
        if (bytes > limits.MaxDecodedBytes)
            throw new FrameFormatException(FrameError.LimitExceeded,
                $".npy array of shape {FormatShape(dims)} '{descr}' needs {bytes} bytes, more than the decode limit of {limits.MaxDecodedBytes} bytes");
        return TensorShape.TryCreate(dims, out TensorShape? shape)
            ? shape!
            : throw new FrameFormatException(FrameError.BadShape, $".npy shape {FormatShape(dims)} is not a valid tensor shape");
    }

    private static byte[] ReadElements(Stream stream, long byteCount, NpyElementType element, string what)
    {
        var data = new byte[byteCount];
        ReadExactly(stream, data, what);
        if (!element.BigEndian)
            return data;
        // NpyArray holds little-endian bytes whatever the machine: reverse each element (1-byte types need nothing).
        switch (element.FileItemSize)
        {
            case 2: Swap(MemoryMarshal.Cast<byte, ushort>(data.AsSpan())); break;
            case 4: Swap(MemoryMarshal.Cast<byte, uint>(data.AsSpan())); break;
            case 8: Swap(MemoryMarshal.Cast<byte, ulong>(data.AsSpan())); break;
        }
        return data;
    }

    private static void Swap(Span<ushort> values) => BinaryPrimitives.ReverseEndianness(values, values);
    private static void Swap(Span<uint> values) => BinaryPrimitives.ReverseEndianness(values, values);
    private static void Swap(Span<ulong> values) => BinaryPrimitives.ReverseEndianness(values, values);

    private static byte[] ReadFloat64AsFloat32(Stream stream, int count, bool bigEndian, string what)
    {
        var output = new byte[(long)count * sizeof(float)];
        byte[] chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int chunkElements = chunk.Length / sizeof(double);
            for (int done = 0; done < count;)
            {
                int n = Math.Min(chunkElements, count - done);
                Span<byte> source = chunk.AsSpan(0, n * sizeof(double));
                int got = stream.ReadAtLeast(source, source.Length, throwOnEndOfStream: false);
                if (got < source.Length)
                    throw TruncatedData(what, (long)count * sizeof(double), (long)done * sizeof(double) + got);
                Span<byte> target = output.AsSpan(done * sizeof(float), n * sizeof(float));
                for (int i = 0; i < n; i++)
                {
                    ReadOnlySpan<byte> bytes = source.Slice(i * sizeof(double), sizeof(double));
                    double value = bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(bytes) : BinaryPrimitives.ReadDoubleLittleEndian(bytes);
                    BinaryPrimitives.WriteSingleLittleEndian(target[(i * sizeof(float))..], (float)value);
                }
                done += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
        return output;
    }

    /// <summary>Fails early when a seekable stream is too short, so a lying header costs no allocation.</summary>
    private static void EnsureRemaining(Stream stream, long needed, string what)
    {
        if (!stream.CanSeek) return;
        long remaining = Math.Max(0, stream.Length - stream.Position);
        if (remaining < needed) throw TruncatedData(what, needed, remaining);
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string what)
    {
        int got = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (got < buffer.Length) throw TruncatedData(what, buffer.Length, got);
    }

    private static FrameFormatException TruncatedData(string what, long needed, long available) =>
        new(FrameError.Truncated, $"truncated .npy: {what} needs {needed} bytes but only {available} remain");

    /// <summary>A shape as Python writes a tuple: (), (5,), (3, 4).</summary>
    private static string FormatShape(ReadOnlySpan<int> dims)
    {
        Span<long> wide = stackalloc long[dims.Length];
        for (int i = 0; i < dims.Length; i++) wide[i] = dims[i];
        return FormatShape(wide);
    }

    private static string FormatShape(ReadOnlySpan<long> dims)
    {
        if (dims.Length == 1) return $"({dims[0]},)";
        var builder = new StringBuilder("(");
        for (int i = 0; i < dims.Length; i++)
        {
            if (i > 0) builder.Append(", ");
            builder.Append(dims[i]);
        }
        return builder.Append(')').ToString();
    }
}
