using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Cleave.Codecs;

/// <summary>
/// Frame format v1: every encoded tensor is self-describing and checked. Layout (little-endian; docs/format.md):
/// <code>
/// 0      4   magic "CLVF"
/// 4      1   version (1)
/// 5      1   codec id
/// 6      1   data type of the decoded tensor (1 = float32)
/// 7      1   rank r (0..8)
/// 8      4r  dimensions, u32 each
/// 8+4r   2   parameter length P (u16)
/// 10+4r  P   codec parameters
/// ..     4   payload length L (u32)
/// ..     L   payload
/// ..     4   CRC-32C of every preceding byte of the frame
/// </code>
/// </summary>
public static class FeatureFrame
{
    public const byte Version = 1;
    public const int ChecksumSize = 4;
    public const int MinimumLength = 8 + 2 + 4 + ChecksumSize;
    public static ReadOnlySpan<byte> Magic => "CLVF"u8;

    [ThreadStatic] private static FramePayloadWriter? t_payload;

    /// <summary>Bytes of a frame around its payload: header (with the payload length) and checksum.</summary>
    public static int OverheadLength(int rank, int parametersLength) => 8 + 4 * rank + 2 + parametersLength + 4 + ChecksumSize;

    /// <summary>
    /// The most bytes one frame of <paramref name="shape"/> can take with <paramref name="codec"/>: what
    /// <see cref="Write"/> asks the output for, so a caller can size a buffer once (as Brotli's GetMaxCompressedLength).
    /// </summary>
    public static long GetMaxEncodedLength(FeatureCodec codec, TensorShape shape)
    {
        ArgumentNullException.ThrowIfNull(codec);
        ArgumentNullException.ThrowIfNull(shape);
        return OverheadLength(shape.Rank, codec.ParameterBytes.Length) + codec.MaxPayloadLength(shape);
    }

    /// <summary>
    /// Encodes <paramref name="values"/> with <paramref name="codec"/> and appends one frame to <paramref name="output"/>.
    /// The codec writes its payload straight into <paramref name="output"/>'s memory (no second copy): the output is asked
    /// once for <see cref="GetMaxEncodedLength"/> bytes and advanced by the frame's real length.
    /// </summary>
    public static void Write(FeatureCodec codec, ReadOnlySpan<float> values, TensorShape shape, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(codec);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(output);
        if (values.Length != shape.ElementCount)
            throw new ArgumentException($"{values.Length} values do not fill shape {shape} ({shape.ElementCount} elements)");
        if (codec is ResilientCodec resilient)
        {
            ResilientFrame.Write(resilient, values, shape, output);
            return;
        }
        ReadOnlySpan<byte> parameters = codec.ParameterBytes;
        if (parameters.Length > ushort.MaxValue) throw new InvalidOperationException("codec parameters exceed 65535 bytes");

        int headerLength = OverheadLength(shape.Rank, parameters.Length) - ChecksumSize;
        long max = GetMaxEncodedLength(codec, shape);
        // Beyond what one Memory<byte> can hold, the payload is built on its own and copied (tensors of 500M+ values).
        var memory = output.GetMemory((int)Math.Min(max, Array.MaxLength));
        var payload = t_payload is { InUse: false } reused ? reused : t_payload = new FramePayloadWriter();
        payload.Start(memory.Length >= headerLength ? memory[headerLength..] : Memory<byte>.Empty);
        try
        {
            codec.EncodePayload(values, shape, payload);
            int total = checked(headerLength + payload.WrittenCount + ChecksumSize);
            Span<byte> frame;
            if (payload.Overflowed || memory.Length < total)
            {
                // The codec wrote more than its bound: the frame goes to fresh output memory, payload copied once.
                frame = output.GetSpan(total)[..total];
                payload.WrittenSpan.CopyTo(frame[headerLength..]);
            }
            else frame = memory.Span[..total];
            WriteHeader(frame, codec.Id, shape, parameters, payload.WrittenCount);
            BinaryPrimitives.WriteUInt32LittleEndian(frame[(total - ChecksumSize)..], Crc32C.Compute(frame[..(total - ChecksumSize)]));
            output.Advance(total);
        }
        finally
        {
            payload.Finish();
        }
    }

    private static void WriteHeader(Span<byte> frame, CodecId codec, TensorShape shape, ReadOnlySpan<byte> parameters, int payloadLength)
    {
        Magic.CopyTo(frame);
        frame[4] = Version;
        frame[5] = (byte)codec;
        frame[6] = (byte)TensorDataType.Float32;
        frame[7] = (byte)shape.Rank;
        int at = 8;
        foreach (int d in shape.Dimensions) { BinaryPrimitives.WriteUInt32LittleEndian(frame[at..], (uint)d); at += 4; }
        BinaryPrimitives.WriteUInt16LittleEndian(frame[at..], (ushort)parameters.Length); at += 2;
        parameters.CopyTo(frame[at..]); at += parameters.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(frame[at..], (uint)payloadLength);
    }

    /// <summary>
    /// Validates every fixed field and the checksum of the frame that starts <paramref name="frame"/>. Bytes after the
    /// frame are allowed (use <see cref="FrameHeader.FrameLength"/> to step to the next one).
    /// </summary>
    public static FrameHeader ReadHeader(ReadOnlySpan<byte> frame, DecodeLimits? limits = null)
    {
        var error = TryParseHeader(frame, limits ?? DecodeLimits.Default, describe: true, out var header, out string? message);
        return error is { } e ? throw new FrameFormatException(e, message!) : header!;
    }

    /// <summary>
    /// The header check without exceptions: null and the header, or the first error found (with its message only when
    /// <paramref name="describe"/>, so the non-throwing decode formats nothing).
    /// </summary>
    private static FrameError? TryParseHeader(ReadOnlySpan<byte> frame, DecodeLimits limits, bool describe, out FrameHeader? header, out string? message)
    {
        header = null;
        message = null;
        if (frame.Length < 8)
            return Fault(FrameError.Truncated, describe ? $"frame is {frame.Length} bytes, shorter than the 8-byte fixed header" : null, out message);
        if (!frame[..4].SequenceEqual(Magic))
            return Fault(FrameError.BadMagic, describe ? $"not a Cleave frame: magic is {Convert.ToHexString(frame[..4])}, expected 434C5646 (\"CLVF\")" : null, out message);
        if (frame[4] != Version)
            return Fault(FrameError.UnsupportedVersion, describe ? $"frame version {frame[4]} is not supported (this decoder reads version {Version})" : null, out message);
        var codec = (CodecId)frame[5];
        if (!FeatureCodecs.IsKnown(codec))
            return Fault(FrameError.UnknownCodec, describe ? $"unknown codec id {frame[5]}" : null, out message);
        var dataType = (TensorDataType)frame[6];
        if (dataType != TensorDataType.Float32)
            return Fault(FrameError.BadDataType, describe ? $"data type {frame[6]} is not supported in frame version 1 (only 1 = float32)" : null, out message);
        int rank = frame[7];
        if (rank > TensorShape.MaxRank)
            return Fault(FrameError.BadShape, describe ? $"rank {rank} exceeds the maximum of {TensorShape.MaxRank}" : null, out message);

        int at = 8;
        if (Short(frame, at + 4 * rank + 2, "dimensions", describe, out message)) return FrameError.Truncated;
        Span<long> dims = stackalloc long[rank];
        long elements = 1;
        for (int i = 0; i < rank; i++, at += 4)
        {
            dims[i] = BinaryPrimitives.ReadUInt32LittleEndian(frame[at..]);
            // Capped at 2^31 (already more than a tensor may hold), so the product below 2^31 * 2^32 never overflows.
            elements = Math.Min(elements * dims[i], 1L << 31);
        }
        // A shape whose element count cannot be allocated within the limit is refused before anything is reserved.
        if (!limits.AllowsElementCount(elements))
            return Fault(FrameError.LimitExceeded, describe ? limits.ElementCountMessage(elements) : null, out message);
        if (!TensorShape.TryCreate(dims, out var shape))
            return Fault(FrameError.BadShape, describe ? $"shape [{string.Join(", ", dims.ToArray())}] is not representable" : null, out message);

        int parametersLength = BinaryPrimitives.ReadUInt16LittleEndian(frame[at..]);
        at += 2;
        int parametersOffset = at;
        if (Short(frame, (long)at + parametersLength + 4, "codec parameters", describe, out message)) return FrameError.Truncated;
        at += parametersLength;
        uint payloadLength = BinaryPrimitives.ReadUInt32LittleEndian(frame[at..]);
        at += 4;
        if (Short(frame, at + (long)payloadLength + ChecksumSize, "payload and checksum", describe, out message)) return FrameError.Truncated;

        int checkedLength = at + (int)payloadLength;
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(frame[checkedLength..]);
        uint actual = Crc32C.Compute(frame[..checkedLength]);
        if (stored != actual)
            return Fault(FrameError.ChecksumMismatch, describe ? $"checksum mismatch: frame says {stored:X8}, content gives {actual:X8} (corrupted in transit?)" : null, out message);

        header = new FrameHeader(Version, codec, dataType, shape!, parametersOffset, parametersLength, at, (int)payloadLength);
        return null;
    }

    private static FrameError Fault(FrameError error, string? text, out string? message)
    {
        message = text;
        return error;
    }

    private static bool Short(ReadOnlySpan<byte> frame, long length, string what, bool describe, out string? message)
    {
        message = frame.Length < length && describe ? $"frame is truncated: {what} need {length} bytes, only {frame.Length} present" : null;
        return frame.Length < length;
    }

    /// <summary>
    /// Decodes the frame that starts <paramref name="frame"/> into <paramref name="destination"/> without throwing for any
    /// content of <paramref name="frame"/>: <see cref="OperationStatus.Done"/> with the tensor's shape and the frame's
    /// length (bytes after it are left for the caller), <see cref="OperationStatus.NeedMoreData"/> when the bytes end
    /// before the frame does, <see cref="OperationStatus.DestinationTooSmall"/> when the tensor does not fit (the shape is
    /// then set, so the caller can size a buffer), <see cref="OperationStatus.InvalidData"/> for anything
    /// <see cref="Decode(ReadOnlySpan{byte}, Span{float}, DecodeLimits?)"/> would refuse (limits included).
    /// </summary>
    public static OperationStatus TryDecode(ReadOnlySpan<byte> frame, Span<float> destination, out TensorShape? shape, out int bytesConsumed, DecodeLimits? limits = null)
    {
        shape = null;
        bytesConsumed = 0;
        limits ??= DecodeLimits.Default;
        if (TryParseHeader(frame, limits, describe: false, out var header, out _) is { } error)
            return error == FrameError.Truncated ? OperationStatus.NeedMoreData : OperationStatus.InvalidData;
        int elements = header!.Shape.ElementCount;
        if (destination.Length < elements)
        {
            shape = header.Shape;
            return OperationStatus.DestinationTooSmall;
        }
        var payload = frame.Slice(header.PayloadOffset, header.PayloadLength);
        try
        {
            // The codec's parameters and payload are parsed by each codec's own decoder, which reports damage by
            // FrameFormatException (deep in entropy decoders); it is caught here, so no caller ever sees it.
            var codec = ReadCodec(frame, header);
            if (payload.Length < codec.MinimumPayloadBytes(payload, header.Shape)
                || !limits.AllowsAllocation(0, codec.DecodeScratchBytes(payload, header.Shape)))
                return OperationStatus.InvalidData;
            codec.DecodePayload(payload, header.Shape, destination[..elements]);
        }
        catch (FrameFormatException) { return OperationStatus.InvalidData; }
        shape = header.Shape;
        bytesConsumed = header.FrameLength;
        return OperationStatus.Done;
    }

    /// <summary>
    /// Decodes a frame that must occupy all of <paramref name="frame"/> into a new array. A resilient frame
    /// (<see cref="ResilientFrame"/>) is decoded with its damaged groups concealed; use <see cref="ResilientFrame"/>
    /// directly to learn which.
    /// </summary>
    public static float[] Decode(ReadOnlySpan<byte> frame, out TensorShape shape, DecodeLimits? limits = null)
    {
        if (ResilientFrame.IsResilient(frame))
        {
            var concealed = ResilientFrame.Decode(frame, out var result, limits);
            shape = result.Shape;
            return concealed;
        }
        limits ??= DecodeLimits.Default;
        var header = ReadExact(frame, limits);
        var payload = frame.Slice(header.PayloadOffset, header.PayloadLength);
        var codec = Admit(frame, header, payload, limits, outputBytes: 4L * header.Shape.ElementCount);
        var values = new float[header.Shape.ElementCount];
        codec.DecodePayload(payload, header.Shape, values);
        shape = header.Shape;
        return values;
    }

    /// <summary>Decodes a frame that must occupy all of <paramref name="frame"/> into a caller-provided buffer.</summary>
    public static TensorShape Decode(ReadOnlySpan<byte> frame, Span<float> destination, DecodeLimits? limits = null)
    {
        if (ResilientFrame.IsResilient(frame)) return ResilientFrame.Decode(frame, destination, limits).Shape;
        limits ??= DecodeLimits.Default;
        var header = ReadExact(frame, limits);
        if (destination.Length < header.Shape.ElementCount)
            throw new ArgumentException($"destination holds {destination.Length} values, the frame's tensor {header.Shape} needs {header.Shape.ElementCount}");
        var payload = frame.Slice(header.PayloadOffset, header.PayloadLength);
        var codec = Admit(frame, header, payload, limits, outputBytes: 0);
        codec.DecodePayload(payload, header.Shape, destination[..header.Shape.ElementCount]);
        return header.Shape;
    }

    /// <summary>Rebuilds the codec that made a frame (its canonical spec tells a user how the frame was encoded).</summary>
    public static FeatureCodec ReadCodec(ReadOnlySpan<byte> frame, FrameHeader header) =>
        FeatureCodecs.FromParameters(header.Codec, frame.Slice(header.ParametersOffset, header.ParametersLength));

    private static FrameHeader ReadExact(ReadOnlySpan<byte> frame, DecodeLimits? limits)
    {
        var header = ReadHeader(frame, limits);
        if (header.FrameLength != frame.Length)
            throw new FrameFormatException(FrameError.TrailingBytes, $"{frame.Length - header.FrameLength} bytes follow the end of the frame");
        return header;
    }

    /// <summary>
    /// The cost checks that run before a decode allocates or works in proportion to the claimed shape: the payload must
    /// be long enough to describe that many elements with its codec and layout (<see cref="FeatureCodec.MinimumPayloadBytes"/>),
    /// and the output (when allocated here) plus the decoder's scratch must fit <see cref="DecodeLimits.MaxAllocatedBytes"/>.
    /// </summary>
    private static FeatureCodec Admit(ReadOnlySpan<byte> frame, FrameHeader header, ReadOnlySpan<byte> payload, DecodeLimits limits, long outputBytes)
    {
        var codec = ReadCodec(frame, header);
        long minimum = codec.MinimumPayloadBytes(payload, header.Shape);
        if (payload.Length < minimum)
            throw new FrameFormatException(FrameError.Truncated,
                $"a {codec.Spec} payload of {payload.Length} bytes cannot describe {header.Shape} ({header.Shape.ElementCount} elements): that needs at least {minimum} bytes");
        limits.EnsureAllocation(outputBytes, codec.DecodeScratchBytes(payload, header.Shape));
        return codec;
    }

    /// <summary>Reinterprets float values as their little-endian bytes (every supported platform is little-endian).</summary>
    internal static ReadOnlySpan<byte> AsBytes(ReadOnlySpan<float> values) => MemoryMarshal.AsBytes(values);
}
