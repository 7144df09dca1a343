using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;

namespace Cleave.Codecs;

/// <summary>
/// The resilient frame layout (docs/format.md, "Resilient frames"): two identical header copies, each with its own
/// CRC-32C, then the groups in order, each its inner codec's payload followed by its CRC-32C. The header holds every
/// group's length, so a damaged group never costs the decoder its place: a group with one flipped bit is repaired
/// (<see cref="SingleBitCorrection"/>), one with more is concealed (<see cref="ConcealmentMode"/>), decodes the rest and reports which groups it concealed.
/// Only a frame whose two header copies are both damaged is refused (<see cref="FrameError.ChecksumMismatch"/>).
/// </summary>
public static class ResilientFrame
{
    public const int GroupCheckSize = 4;

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_groups;

    /// <summary>True when <paramref name="frame"/> is (or, damaged, most likely was) a resilient frame: its first four bytes
    /// are within 4 flipped bits of "CLVR" and are not a plain frame's "CLVF" (the two magics differ in 2 bits).</summary>
    public static bool IsResilient(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 4 || frame[..4].SequenceEqual(FeatureFrame.Magic)) return false;
        uint word = BinaryPrimitives.ReadUInt32LittleEndian(frame);
        return BitOperations.PopCount(word ^ BinaryPrimitives.ReadUInt32LittleEndian(ResilientHeader.Magic)) <= 4;
    }

    internal static void Write(ResilientCodec codec, ReadOnlySpan<float> values, TensorShape shape, IBufferWriter<byte> output)
    {
        if (codec.Layout == CompactResilientHeader.Version)
        {
            CompactResilientFrame.Write(codec, values, shape, output);
            return;
        }
        var whole = new GroupGrid(shape, 1, 1);
        var grid = shape.ElementCount == 0 ? whole : new GroupGrid(shape, Math.Min(codec.PlaneGroups, whole.Planes), Math.Min(codec.RowBlocks, whole.Height));
        var payloads = t_groups ??= new ArrayBufferWriter<byte>(1 << 16);
        payloads.ResetWrittenCount();
        int[] lengths = new int[grid.Count];
        int largest = 0;
        for (int g = 0; g < grid.Count; g++) largest = Math.Max(largest, grid.ElementCount(g));
        float[] scratch = ArrayPool<float>.Shared.Rent(Math.Max(largest, 1));
        try
        {
            for (int g = 0; g < grid.Count; g++)
            {
                int count = grid.ElementCount(g);
                grid.Gather(g, values, scratch);
                int before = payloads.WrittenCount;
                codec.Inner.EncodePayload(scratch.AsSpan(0, count), grid.GroupShape(g), payloads);
                lengths[g] = payloads.WrittenCount - before;
            }
        }
        finally { ArrayPool<float>.Shared.Return(scratch); }

        ReadOnlySpan<byte> parameters = codec.Inner.ParameterBytes;
        Span<byte> header = new byte[ResilientHeader.MaxWriteLength(shape.Rank, parameters.Length, grid.Count)];
        int headerLength = ResilientHeader.Write(codec.Inner.Id, shape, codec.Conceal, grid.PlaneGroups, grid.RowBlocks, parameters, lengths, header);
        Assemble(header[..headerLength], payloads.WrittenSpan, lengths, GroupCheckSize, output);
        if (payloads.Capacity > 64 << 20) t_groups = null;
    }

    internal static uint GroupCheck(ReadOnlySpan<byte> payload) => Crc32C.Compute(payload);

    /// <summary>Writes a frame of either layout: the header copy twice, then each group's payload and its check
    /// (<paramref name="checkSize"/> 4: CRC-32C, layout 1; 2: CRC-16/X-25, layout 2).</summary>
    internal static void Assemble(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payloads, ReadOnlySpan<int> lengths, int checkSize, IBufferWriter<byte> output)
    {
        long total = 2L * header.Length + payloads.Length + (long)checkSize * lengths.Length;
        if (total > int.MaxValue) throw new InvalidOperationException("a resilient frame would exceed 2 GiB");
        Span<byte> frame = output.GetSpan((int)total)[..(int)total];
        header.CopyTo(frame);
        header.CopyTo(frame[header.Length..]);
        int at = 2 * header.Length, from = 0;
        foreach (int length in lengths)
        {
            var payload = payloads.Slice(from, length);
            payload.CopyTo(frame[at..]);
            if (checkSize == 4) BinaryPrimitives.WriteUInt32LittleEndian(frame[(at + length)..], GroupCheck(payload));
            else BinaryPrimitives.WriteUInt16LittleEndian(frame[(at + length)..], Crc16.Compute(payload));
            at += length + checkSize;
            from += length;
        }
        output.Advance((int)total);
    }

    /// <summary>Decodes a resilient frame into a new array, concealing damaged groups with the frame's own mode.</summary>
    public static float[] Decode(ReadOnlySpan<byte> frame, out ResilientDecodeResult result, DecodeLimits? limits = null, ConcealmentMode? conceal = null)
    {
        limits ??= DecodeLimits.Default;
        var header = ReadHeader(frame, limits, out bool second);
        var values = new float[header.Shape.ElementCount];
        result = DecodeGroups(frame, header, second, values, limits, outputBytes: 4L * values.Length, conceal ?? header.Conceal);
        return values;
    }

    /// <summary>Decodes a resilient frame into <paramref name="destination"/>, concealing damaged groups.</summary>
    public static ResilientDecodeResult Decode(ReadOnlySpan<byte> frame, Span<float> destination, DecodeLimits? limits = null, ConcealmentMode? conceal = null)
    {
        limits ??= DecodeLimits.Default;
        var header = ReadHeader(frame, limits, out bool second);
        if (destination.Length < header.Shape.ElementCount)
            throw new ArgumentException($"destination holds {destination.Length} values, the frame's tensor {header.Shape} needs {header.Shape.ElementCount}");
        return DecodeGroups(frame, header, second, destination[..header.Shape.ElementCount], limits, outputBytes: 0, conceal ?? header.Conceal);
    }

    /// <summary>The first header copy whose checksum holds; the second is looked for where the first says it starts,
    /// then (the first's length field may be the damaged part) at every offset where a copy claiming that offset as its
    /// own length begins.</summary>
    private static ResilientHeader ReadHeader(ReadOnlySpan<byte> frame, DecodeLimits limits, out bool second)
    {
        second = false;
        var first = ResilientHeader.TryRead(frame, limits);
        if (first is not null) return first;
        if (frame.Length < 2 * ResilientHeader.MinLength)
            throw new FrameFormatException(FrameError.Truncated, $"a resilient frame of {frame.Length} bytes is shorter than two header copies");
        second = true;
        int claimed = BinaryPrimitives.ReadUInt16LittleEndian(frame[5..]);
        if (claimed >= ResilientHeader.MinLength && claimed <= frame.Length - ResilientHeader.MinLength &&
            ResilientHeader.TryRead(frame[claimed..], limits, expectedLength: claimed) is { } atClaimed)
            return atClaimed;
        int last = Math.Min(ResilientHeader.MaxLength, frame.Length - ResilientHeader.MinLength);
        for (int offset = ResilientHeader.MinLength; offset <= last; offset++)
        {
            if (offset == claimed || frame[offset] != (byte)'C' || BinaryPrimitives.ReadUInt16LittleEndian(frame[(offset + 5)..]) != offset) continue;
            if (ResilientHeader.TryRead(frame[offset..], limits, expectedLength: offset) is { } found) return found;
        }
        // Both copies damaged: one flipped bit in either is repaired (the length field that copy 1 claims must hold).
        if (claimed >= ResilientHeader.MinLength && 2L * claimed <= frame.Length)
            foreach (int start in (ReadOnlySpan<int>)[0, claimed])
            {
                byte[] copy = frame.Slice(start, claimed).ToArray();
                uint stored = BinaryPrimitives.ReadUInt32LittleEndian(copy.AsSpan(claimed - 4));
                if (SingleBitCorrection.TryRepair(copy.AsSpan(0, claimed - 4), stored) && ResilientHeader.TryRead(copy, limits, claimed) is { } repaired)
                    return repaired;
            }
        throw new FrameFormatException(FrameError.ChecksumMismatch, "both copies of the resilient frame's header are damaged beyond repair");
    }

    /// <summary>Decodes one group's checked payload into <c>destination</c> (the group's values); false conceals the group.</summary>
    internal delegate bool GroupDecoder(ReadOnlySpan<byte> payload, TensorShape shape, Span<float> destination, long repairCopyBytes);

    private static ResilientDecodeResult DecodeGroups(ReadOnlySpan<byte> frame, ResilientHeader header, bool second,
        Span<float> destination, DecodeLimits limits, long outputBytes, ConcealmentMode conceal)
    {
        var grid = new GroupGrid(header.Shape, header.PlaneGroups, header.RowBlocks);
        int check = header.GroupCheckSize;
        long expected = 2L * header.Length + (long)check * grid.Count;
        foreach (int length in header.GroupLengths) expected += length;
        if (frame.Length > expected)
            throw new FrameFormatException(FrameError.TrailingBytes, $"{frame.Length - expected} bytes follow the resilient frame's last group");

        int largest = 1;
        for (int g = 0; g < grid.Count; g++) largest = Math.Max(largest, grid.ElementCount(g));
        // Output (when allocated here) plus the group buffer (and layout 2's symbols and model) are counted first; layout
        // 1's inner decoder scratch per group below.
        long groupBuffer = ScratchSize.Pooled(largest, sizeof(float)) + (header.Layout == 1 ? 0 : CompactResilientFrame.ScratchBytes(header, largest));
        limits.EnsureAllocation(outputBytes, groupBuffer);
        long allocated = outputBytes + groupBuffer;
        GroupDecoder decode = header.Layout == 1 ? InnerDecoder(FeatureCodecs.FromParameters(header.Codec, header.Parameters), limits, allocated)
            : CompactResilientFrame.GroupDecoder(header);

        var intact = new bool[grid.Count];
        var concealed = new List<int>();
        var repaired = new List<int>();
        float[] scratch = ArrayPool<float>.Shared.Rent(largest);
        try
        {
            long at = 2L * header.Length;
            for (int g = 0; g < grid.Count; g++)
            {
                int length = header.GroupLengths[g];
                long end = at + length + check;
                if (end <= frame.Length)
                {
                    var payload = frame.Slice((int)at, length);
                    var stored = frame.Slice((int)(at + length), check);
                    if (Holds(payload, stored))
                        intact[g] = TryDecodeGroup(decode, payload, grid, g, scratch, destination, 0);
                    else if (allocated + ScratchSize.Pooled(length, 1) <= limits.MaxAllocatedBytes)
                    {
                        // One flipped bit is repaired in a pooled copy of the group (counted against the limits as well).
                        byte[] copy = ArrayPool<byte>.Shared.Rent(length);
                        try
                        {
                            payload.CopyTo(copy);
                            if (TryRepair(copy.AsSpan(0, length), stored))
                            {
                                intact[g] = TryDecodeGroup(decode, copy.AsSpan(0, length), grid, g, scratch, destination, ScratchSize.Pooled(length, 1));
                                if (intact[g]) repaired.Add(g);
                            }
                        }
                        finally { ArrayPool<byte>.Shared.Return(copy); }
                    }
                }
                if (!intact[g]) concealed.Add(g);
                at = end;
            }
        }
        finally { ArrayPool<float>.Shared.Return(scratch); }
        if (concealed.Count > 0) Concealment.Fill(grid, intact, concealed, destination, conceal, header.PlaneMeans);
        return new ResilientDecodeResult(header.Shape, grid.Count, concealed, second) { RepairedGroups = repaired };
    }

    /// <summary>Whether a group's stored check (4 bytes: CRC-32C, layout 1; 2 bytes: CRC-16/X-25, layout 2) matches its payload.</summary>
    private static bool Holds(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> stored) => stored.Length == 4
        ? BinaryPrimitives.ReadUInt32LittleEndian(stored) == GroupCheck(payload)
        : BinaryPrimitives.ReadUInt16LittleEndian(stored) == Crc16.Compute(payload);

    private static bool TryRepair(Span<byte> payload, ReadOnlySpan<byte> stored) => stored.Length == 4
        ? SingleBitCorrection.TryRepair(payload, BinaryPrimitives.ReadUInt32LittleEndian(stored))
        : SingleBitCorrection.TryRepair16(payload, BinaryPrimitives.ReadUInt16LittleEndian(stored));

    /// <summary>
    /// A group whose check holds is still decoded as hostile input (a damaged group can pass a check, rarely): any typed
    /// error from its decoder, or a payload too short or too costly for its shape, conceals it.
    /// </summary>
    private static bool TryDecodeGroup(GroupDecoder decode, ReadOnlySpan<byte> payload, GroupGrid grid, int group, float[] scratch, Span<float> destination, long repairCopyBytes)
    {
        var values = scratch.AsSpan(0, grid.ElementCount(group));
        try
        {
            if (!decode(payload, grid.GroupShape(group), values, repairCopyBytes)) return false;
        }
        catch (FrameFormatException)
        {
            return false;
        }
        grid.Scatter(group, values, destination);
        return true;
    }

    /// <summary>Layout 1: each group is a payload of the inner codec, with its own parameters and state.</summary>
    private static GroupDecoder InnerDecoder(FeatureCodec inner, DecodeLimits limits, long alreadyAllocated) =>
        (ReadOnlySpan<byte> payload, TensorShape shape, Span<float> values, long repairCopyBytes) =>
        {
            if (payload.Length < inner.MinimumPayloadBytes(payload, shape)) return false;
            limits.EnsureAllocation(alreadyAllocated + repairCopyBytes, inner.DecodeScratchBytes(payload, shape));
            inner.DecodePayload(payload, shape, values);
            return true;
        };
}
