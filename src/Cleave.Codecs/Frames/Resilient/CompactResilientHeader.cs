using System.Buffers.Binary;
using Cleave.Codecs.Entropy;
using Cleave.Codecs.Quantization;

namespace Cleave.Codecs;

/// <summary>
/// One copy of a layout-2 resilient frame's header (docs/format.md, "Layout 2"): layout 1's fields with the numbers
/// as varints, plus the coder state every group shares (the quantization grid and the context model's prior), so that
/// a group's payload is nothing but its range-coded symbols. Read through <see cref="ResilientHeader.TryRead"/>, which
/// finds and checks a copy the same way for both layouts and hands version 2 here.
/// </summary>
internal static class CompactResilientHeader
{
    public const byte Version = 2;

    /// <summary>Most prior bytes a header may carry (the largest prior: 49 contexts of 4,095 nodes is far beyond this,
    /// but a useful one for up to 8 bits per symbol fits).</summary>
    public const int MaxPriorBytes = 4096;

    /// <summary>The most bytes <see cref="Write"/> can need.</summary>
    public static int MaxWriteLength(int rank, int parameters, int prior, int means, int groups) =>
        4 + 1 + 2 + 3 + 5 * rank + 1 + 5 + 5 + 5 + parameters + 4 + 5 + 5 + prior + 5 + means + 5 + 1 + 4 * groups + 4;

    /// <summary>Writes one copy into <paramref name="destination"/> and returns its length.</summary>
    public static int Write(TensorShape shape, ConcealmentMode conceal, int planeGroups, int rowBlocks, ReadOnlySpan<byte> parameters,
        QuantizationParameters grid, ReadOnlySpan<byte> prior, ReadOnlySpan<byte> planeMeans, ReadOnlySpan<int> groupLengths, Span<byte> destination)
    {
        ResilientHeader.Magic.CopyTo(destination);
        destination[4] = Version;
        int at = 7; // the length goes in at 5 when known
        destination[at++] = (byte)CodecId.RansIfc;
        destination[at++] = (byte)TensorDataType.Float32;
        destination[at++] = (byte)shape.Rank;
        foreach (int d in shape.Dimensions) at += VarInt.Write(destination[at..], (uint)d);
        destination[at++] = (byte)conceal;
        at += VarInt.Write(destination[at..], (uint)planeGroups);
        at += VarInt.Write(destination[at..], (uint)rowBlocks);
        at += VarInt.Write(destination[at..], (uint)parameters.Length);
        parameters.CopyTo(destination[at..]); at += parameters.Length;
        BinaryPrimitives.WriteSingleLittleEndian(destination[at..], grid.Scale); at += 4;
        at += VarInt.Write(destination[at..], ZigZag(grid.ZeroPoint));
        at += VarInt.Write(destination[at..], (uint)prior.Length);
        prior.CopyTo(destination[at..]); at += prior.Length;
        at += VarInt.Write(destination[at..], planeMeans.IsEmpty ? 0u : (uint)new GroupGrid(shape, planeGroups, rowBlocks).Planes);
        planeMeans.CopyTo(destination[at..]); at += planeMeans.Length;
        at += WriteLengths(groupLengths, destination[at..]);
        int total = at + 4;
        if (total > ResilientHeader.MaxLength) throw new InvalidOperationException($"a resilient header of {total} bytes exceeds {ResilientHeader.MaxLength}: use fewer groups");
        BinaryPrimitives.WriteUInt16LittleEndian(destination[5..], (ushort)total);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[at..], Crc32C.Compute(destination[..at]));
        return total;
    }

    /// <summary>
    /// The group lengths as the smallest one (varint), a width w (one byte, 0..31) and each length's excess over the
    /// smallest in w bits, least significant bit first, padded with 0 bits to a byte. Why: groups of one frame have
    /// similar lengths, so this takes about half the bytes of one varint per group.
    /// </summary>
    private static int WriteLengths(ReadOnlySpan<int> lengths, Span<byte> destination)
    {
        int smallest = int.MaxValue, largest = 0;
        foreach (int l in lengths) { smallest = Math.Min(smallest, l); largest = Math.Max(largest, l); }
        if (lengths.IsEmpty) smallest = 0;
        int width = 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)(largest - smallest));
        int at = VarInt.Write(destination, (uint)smallest);
        destination[at++] = (byte)width;
        int packed = (lengths.Length * width + 7) / 8;
        destination.Slice(at, packed).Clear();
        long bit = 0;
        foreach (int l in lengths)
            for (int b = 0; b < width; b++, bit++)
                if (((l - smallest) >> b & 1) != 0) destination[at + (int)(bit >> 3)] |= (byte)(1 << (int)(bit & 7));
        return at + packed;
    }

    /// <summary>Parses a copy's checked bytes (everything before its CRC), version already known to be 2.</summary>
    public static ResilientHeader Parse(ReadOnlySpan<byte> h, DecodeLimits limits, int length)
    {
        if ((CodecId)h[7] != CodecId.RansIfc)
            throw new FrameFormatException(FrameError.UnknownCodec, $"codec id {h[7]} in a layout-2 resilient frame (only {(byte)CodecId.RansIfc}, rans-ifc with ctx=2d)");
        int rank = ResilientHeader.ReadRank(h);
        int at = 10;
        Span<long> dims = stackalloc long[rank];
        long elements = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = ResilientHeader.ReadNumber(h, ref at, "a dimension");
            elements = Math.Min(elements * dims[i], 1L << 31);
        }
        var shape = ResilientHeader.ToShape(dims, elements, limits);
        Need(h, at + 1);
        var conceal = ResilientHeader.ToConceal(h[at++]);
        long planeGroups = ResilientHeader.ReadNumber(h, ref at, "the plane group count");
        long rowBlocks = ResilientHeader.ReadNumber(h, ref at, "the row block count");
        var grid = new GroupGrid(shape, (int)Math.Min(planeGroups, int.MaxValue), (int)Math.Min(rowBlocks, int.MaxValue));
        if (planeGroups > ResilientHeader.MaxGroups || rowBlocks > ResilientHeader.MaxGroups || !grid.IsValid || grid.Count > ResilientHeader.MaxGroups)
            throw new FrameFormatException(FrameError.BadParameters,
                $"{planeGroups} plane groups x {rowBlocks} row blocks do not fit {shape} ({grid.Planes} planes of {grid.Height} rows; at most {ResilientHeader.MaxGroups} groups)");
        long parameterLength = ResilientHeader.ReadNumber(h, ref at, "the parameter length");
        if (parameterLength > ResilientHeader.MaxParameterBytes)
            throw new FrameFormatException(FrameError.BadParameters, $"{parameterLength} codec parameter bytes exceed {ResilientHeader.MaxParameterBytes}");
        Need(h, at + (int)parameterLength + 4);
        byte[] parameters = h.Slice(at, (int)parameterLength).ToArray();
        at += (int)parameterLength;
        var inner = CompactResilientFrame.InnerFromParameters(parameters);
        float scale = BinaryPrimitives.ReadSingleLittleEndian(h[at..]);
        at += 4;
        long zigzag = ResilientHeader.ReadNumber(h, ref at, "the zero point");
        var quantization = new QuantizationParameters(scale, UnZigZag((uint)zigzag), inner.Bits);
        if (!quantization.IsValid)
            throw new FrameFormatException(FrameError.BadParameters, $"the shared grid has invalid scale {scale} or zero point {quantization.ZeroPoint}");
        long priorLength = ResilientHeader.ReadNumber(h, ref at, "the prior length");
        if (priorLength > MaxPriorBytes)
            throw new FrameFormatException(FrameError.BadParameters, $"{priorLength} prior bytes exceed {MaxPriorBytes}");
        Need(h, at + (int)priorLength);
        AdaptiveBit[] prior = [];
        if (priorLength > 0)
        {
            int used = ContextPrior.Read(h.Slice(at, (int)priorLength), inner.Bits, inner.Levels, out prior);
            if (used != priorLength)
                throw new FrameFormatException(FrameError.CorruptPayload, $"the context prior holds {priorLength} bytes but its mask describes {used}");
            at += (int)priorLength;
        }
        long planes = ResilientHeader.ReadNumber(h, ref at, "the plane mean count");
        if (planes != 0 && (planes != grid.Planes || planes > PlaneMeans.MaxPlanes))
            throw new FrameFormatException(FrameError.BadParameters, $"{planes} plane means for {grid.Planes} planes");
        float[] means = [];
        if (planes > 0)
        {
            int size = PlaneMeans.Size(grid.Planes, inner.Levels);
            Need(h, at + size);
            means = PlaneMeans.Read(h.Slice(at, size), grid.Planes, quantization, inner.Levels);
            at += size;
        }
        int[] lengths = ReadLengths(h, ref at, grid.Count);
        if (at != h.Length)
            throw new FrameFormatException(FrameError.CorruptPayload, $"the resilient header has {h.Length - at} bytes after its group lengths");
        return new ResilientHeader(CodecId.RansIfc, shape, conceal, grid.PlaneGroups, grid.RowBlocks, parameters, lengths, length)
        {
            Layout = Version,
            Grid = quantization,
            Prior = prior,
            PlaneMeans = means,
        };
    }

    private static int[] ReadLengths(ReadOnlySpan<byte> h, ref int at, int count)
    {
        long smallest = ResilientHeader.ReadNumber(h, ref at, "the smallest group length");
        Need(h, at + 1);
        int width = h[at++];
        if (width > 31 || smallest > int.MaxValue)
            throw new FrameFormatException(FrameError.CorruptPayload, $"group lengths of {width} bits over {smallest} are not lengths below 2^31");
        int packed = (int)(((long)count * width + 7) / 8);
        Need(h, at + packed);
        var lengths = new int[count];
        long bit = 0;
        for (int g = 0; g < count; g++)
        {
            long excess = 0;
            for (int b = 0; b < width; b++, bit++)
                excess |= (long)(h[at + (int)(bit >> 3)] >> (int)(bit & 7) & 1) << b;
            if (smallest + excess > int.MaxValue)
                throw new FrameFormatException(FrameError.CorruptPayload, $"group {g}'s length {smallest + excess} exceeds 2^31 - 1");
            lengths[g] = (int)(smallest + excess);
        }
        if (bit % 8 != 0 && h[at + packed - 1] >> (int)(bit % 8) != 0)
            throw new FrameFormatException(FrameError.CorruptPayload, "the group lengths' pad bits are not 0");
        at += packed;
        return lengths;
    }

    private static uint ZigZag(int value) => (uint)((value << 1) ^ (value >> 31));

    private static int UnZigZag(uint value) => (int)(value >> 1) ^ -(int)(value & 1);

    private static void Need(ReadOnlySpan<byte> h, int length)
    {
        if (h.Length < length)
            throw new FrameFormatException(FrameError.Truncated, $"the resilient header needs {length} bytes, its copy has {h.Length}");
    }
}
