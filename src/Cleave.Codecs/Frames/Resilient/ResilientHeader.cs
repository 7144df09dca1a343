using System.Buffers.Binary;
using Cleave.Codecs.Entropy;
using Cleave.Codecs.Quantization;

namespace Cleave.Codecs;

/// <summary>
/// One copy of a resilient frame's header (docs/format.md, "Resilient frames"). A frame carries two identical copies,
/// each with its own CRC-32C, so that a bit error in one leaves the other to describe the groups.
/// </summary>
internal sealed record ResilientHeader(
    CodecId Codec, TensorShape Shape, ConcealmentMode Conceal, int PlaneGroups, int RowBlocks, byte[] Parameters, int[] GroupLengths, int Length)
{
    public static ReadOnlySpan<byte> Magic => "CLVR"u8;
    public const byte Version = 1;

    /// <summary>Largest header copy a decoder accepts (also bounds the search for the second copy).</summary>
    public const int MaxLength = 16 * 1024;

    /// <summary>Most groups a frame may have.</summary>
    public const int MaxGroups = 4096;

    /// <summary>Most codec parameter bytes a resilient frame may carry.</summary>
    public const int MaxParameterBytes = 1024;

    /// <summary>magic, version, length, codec, dtype, rank, conceal, two group counts, parameter length, CRC: rank 0, no parameters, no groups.</summary>
    public const int MinLength = 4 + 1 + 2 + 1 + 1 + 1 + 1 + 2 + 2 + 2 + 4;

    public int GroupCount => PlaneGroups * RowBlocks;

    /// <summary>1, or 2 for a compact frame (<see cref="CompactResilientHeader"/>), whose groups share <see cref="Grid"/> and <see cref="Prior"/>.</summary>
    public int Layout { get; init; } = 1;

    /// <summary>Layout 2: the quantization grid every group uses.</summary>
    public QuantizationParameters Grid { get; init; }

    /// <summary>Layout 2: the context model's starting cells (empty: all flat).</summary>
    public AdaptiveBit[] Prior { get; init; } = [];

    /// <summary>Layout 2 with plane groups: each plane's mean, what a plane with no intact row is concealed by (empty: 0).</summary>
    public float[] PlaneMeans { get; init; } = [];

    /// <summary>Bytes of check after each group: CRC-32C in layout 1, CRC-16/X-25 in layout 2.</summary>
    public int GroupCheckSize => Layout == 1 ? 4 : 2;

    /// <summary>Writes one copy into <paramref name="destination"/> and returns its length.</summary>
    public static int Write(CodecId codec, TensorShape shape, ConcealmentMode conceal, int planeGroups, int rowBlocks,
        ReadOnlySpan<byte> parameters, ReadOnlySpan<int> groupLengths, Span<byte> destination)
    {
        int at = 0;
        Magic.CopyTo(destination);
        destination[4] = Version;
        at = 7; // the length goes in at 5 when known
        destination[at++] = (byte)codec;
        destination[at++] = (byte)TensorDataType.Float32;
        destination[at++] = (byte)shape.Rank;
        foreach (int d in shape.Dimensions) { BinaryPrimitives.WriteUInt32LittleEndian(destination[at..], (uint)d); at += 4; }
        destination[at++] = (byte)conceal;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[at..], (ushort)planeGroups); at += 2;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[at..], (ushort)rowBlocks); at += 2;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[at..], (ushort)parameters.Length); at += 2;
        parameters.CopyTo(destination[at..]); at += parameters.Length;
        foreach (int length in groupLengths) at += VarInt.Write(destination[at..], (uint)length);
        int total = at + 4;
        if (total > MaxLength) throw new InvalidOperationException($"a resilient header of {total} bytes exceeds {MaxLength}: use fewer groups");
        BinaryPrimitives.WriteUInt16LittleEndian(destination[5..], (ushort)total);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[at..], Crc32C.Compute(destination[..at]));
        return total;
    }

    /// <summary>The most bytes <see cref="Write"/> can need.</summary>
    public static int MaxWriteLength(int rank, int parameters, int groups) => MinLength + 4 * rank + parameters + 5 * groups;

    /// <summary>
    /// Reads the copy at the start of <paramref name="copy"/>. Null when the copy is damaged (its length field, magic or
    /// checksum do not hold); a copy whose checksum holds but whose content is invalid is hostile, not damaged, and
    /// throws <see cref="FrameFormatException"/>.
    /// </summary>
    public static ResilientHeader? TryRead(ReadOnlySpan<byte> copy, DecodeLimits limits, int expectedLength = 0)
    {
        if (copy.Length < MinLength || !copy[..4].SequenceEqual(Magic)) return null;
        int length = BinaryPrimitives.ReadUInt16LittleEndian(copy[5..]);
        if (length < MinLength || length > MaxLength || length > copy.Length || (expectedLength != 0 && length != expectedLength)) return null;
        int checkedLength = length - 4;
        if (BinaryPrimitives.ReadUInt32LittleEndian(copy[checkedLength..]) != Crc32C.Compute(copy[..checkedLength])) return null;
        return Parse(copy[..checkedLength], limits, length);
    }

    private static ResilientHeader Parse(ReadOnlySpan<byte> h, DecodeLimits limits, int length)
    {
        if (h[4] == CompactResilientHeader.Version) return CompactResilientHeader.Parse(h, limits, length);
        if (h[4] != Version)
            throw new FrameFormatException(FrameError.UnsupportedVersion, $"resilient frame version {h[4]} is not supported (this decoder reads versions {Version} and {CompactResilientHeader.Version})");
        var codec = (CodecId)h[7];
        if (!FeatureCodecs.IsKnown(codec))
            throw new FrameFormatException(FrameError.UnknownCodec, $"unknown codec id {h[7]} in a resilient frame");
        int rank = ReadRank(h);
        int at = 10;
        Need(h, at + 4 * rank + 7);
        Span<long> dims = stackalloc long[rank];
        long elements = 1;
        for (int i = 0; i < rank; i++, at += 4)
        {
            dims[i] = BinaryPrimitives.ReadUInt32LittleEndian(h[at..]);
            elements = Math.Min(elements * dims[i], 1L << 31);
        }
        var shape = ToShape(dims, elements, limits);
        var conceal = ToConceal(h[at++]);
        int planeGroups = BinaryPrimitives.ReadUInt16LittleEndian(h[at..]);
        int rowBlocks = BinaryPrimitives.ReadUInt16LittleEndian(h[(at + 2)..]);
        int parameterLength = BinaryPrimitives.ReadUInt16LittleEndian(h[(at + 4)..]);
        at += 6;
        var grid = new GroupGrid(shape, planeGroups, rowBlocks);
        if (!grid.IsValid || grid.Count > MaxGroups)
            throw new FrameFormatException(FrameError.BadParameters,
                $"{planeGroups} plane groups x {rowBlocks} row blocks do not fit {shape} ({grid.Planes} planes of {grid.Height} rows; at most {MaxGroups} groups)");
        if (parameterLength > MaxParameterBytes)
            throw new FrameFormatException(FrameError.BadParameters, $"{parameterLength} codec parameter bytes exceed {MaxParameterBytes}");
        Need(h, at + parameterLength);
        byte[] parameters = h.Slice(at, parameterLength).ToArray();
        at += parameterLength;
        int[] lengths = new int[grid.Count];
        for (int g = 0; g < lengths.Length; g++)
        {
            long value = ReadNumber(h, ref at, $"group {g}'s length");
            if (value > int.MaxValue)
                throw new FrameFormatException(FrameError.CorruptPayload, $"group {g}'s length {value} exceeds 2^31 - 1");
            lengths[g] = (int)value;
        }
        if (at != h.Length)
            throw new FrameFormatException(FrameError.CorruptPayload, $"the resilient header has {h.Length - at} bytes after its group lengths");
        return new ResilientHeader(codec, shape, conceal, planeGroups, rowBlocks, parameters, lengths, length);
    }

    /// <summary>The rank at byte 9 of a copy of either layout, after its data type (byte 8) is checked.</summary>
    internal static int ReadRank(ReadOnlySpan<byte> h)
    {
        if (h[8] != (byte)TensorDataType.Float32)
            throw new FrameFormatException(FrameError.BadDataType, $"data type {h[8]} is not supported (only 1 = float32)");
        int rank = h[9];
        if (rank > TensorShape.MaxRank)
            throw new FrameFormatException(FrameError.BadShape, $"rank {rank} exceeds the maximum of {TensorShape.MaxRank}");
        return rank;
    }

    /// <summary>The shape of the dimensions read, within the limits (<paramref name="elements"/>: their product, capped at 2^31).</summary>
    internal static TensorShape ToShape(ReadOnlySpan<long> dims, long elements, DecodeLimits limits)
    {
        limits.EnsureElementCount(elements);
        if (!TensorShape.TryCreate(dims, out var shape))
            throw new FrameFormatException(FrameError.BadShape, $"shape [{string.Join(", ", dims.ToArray())}] is not representable");
        return shape!;
    }

    internal static ConcealmentMode ToConceal(byte conceal) => conceal <= (byte)ConcealmentMode.Interpolate ? (ConcealmentMode)conceal
        : throw new FrameFormatException(FrameError.BadParameters, $"concealment mode {conceal} is not 0 (zero), 1 (mean) or 2 (interpolate)");

    /// <summary>A LEB128 number of at most 5 bytes (below 2^35) inside the copy; <paramref name="what"/> names it in the error.</summary>
    internal static long ReadNumber(ReadOnlySpan<byte> h, ref int at, string what)
    {
        long value = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (at >= h.Length || shift > 28)
                throw new FrameFormatException(FrameError.CorruptPayload, $"{what} is not a varint of at most 5 bytes inside the header");
            byte b = h[at++];
            value |= (long)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
    }

    private static void Need(ReadOnlySpan<byte> h, int length)
    {
        if (h.Length < length)
            throw new FrameFormatException(FrameError.Truncated, $"the resilient header needs {length} bytes, its copy has {h.Length}");
    }
}
