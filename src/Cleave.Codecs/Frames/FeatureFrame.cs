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

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_payload;

    /// <summary>Encodes <paramref name="values"/> with <paramref name="codec"/> and appends one frame to <paramref name="output"/>.</summary>
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

        // The payload length precedes the payload, so the payload is built first in a reused per-thread buffer.
        var payload = t_payload ??= new ArrayBufferWriter<byte>(1 << 16);
        payload.ResetWrittenCount();
        codec.EncodePayload(values, shape, payload);
        ReadOnlySpan<byte> parameters = codec.ParameterBytes;
        if (parameters.Length > ushort.MaxValue) throw new InvalidOperationException("codec parameters exceed 65535 bytes");

        int headerLength = 8 + 4 * shape.Rank + 2 + parameters.Length + 4;
        int total = headerLength + payload.WrittenCount + ChecksumSize;
        Span<byte> frame = output.GetSpan(total)[..total];
        Magic.CopyTo(frame);
        frame[4] = Version;
        frame[5] = (byte)codec.Id;
        frame[6] = (byte)TensorDataType.Float32;
        frame[7] = (byte)shape.Rank;
        int at = 8;
        foreach (int d in shape.Dimensions) { BinaryPrimitives.WriteUInt32LittleEndian(frame[at..], (uint)d); at += 4; }
        BinaryPrimitives.WriteUInt16LittleEndian(frame[at..], (ushort)parameters.Length); at += 2;
        parameters.CopyTo(frame[at..]); at += parameters.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(frame[at..], (uint)payload.WrittenCount); at += 4;
        payload.WrittenSpan.CopyTo(frame[at..]); at += payload.WrittenCount;
        BinaryPrimitives.WriteUInt32LittleEndian(frame[at..], Crc32C.Compute(frame[..at]));
        output.Advance(total);

        if (payload.Capacity > 64 << 20) t_payload = null; // don't pin a huge buffer to the thread forever
    }

    /// <summary>
    /// Validates every fixed field and the checksum of the frame that starts <paramref name="frame"/>. Bytes after the
    /// frame are allowed (use <see cref="FrameHeader.FrameLength"/> to step to the next one).
    /// </summary>
    public static FrameHeader ReadHeader(ReadOnlySpan<byte> frame, DecodeLimits? limits = null)
    {
        limits ??= DecodeLimits.Default;
        if (frame.Length < 8)
            throw new FrameFormatException(FrameError.Truncated, $"frame is {frame.Length} bytes, shorter than the 8-byte fixed header");
        if (!frame[..4].SequenceEqual(Magic))
            throw new FrameFormatException(FrameError.BadMagic, $"not a Cleave frame: magic is {Convert.ToHexString(frame[..4])}, expected 434C5646 (\"CLVF\")");
        if (frame[4] != Version)
            throw new FrameFormatException(FrameError.UnsupportedVersion, $"frame version {frame[4]} is not supported (this decoder reads version {Version})");
        var codec = (CodecId)frame[5];
        if (!FeatureCodecs.IsKnown(codec))
            throw new FrameFormatException(FrameError.UnknownCodec, $"unknown codec id {frame[5]}");
        var dataType = (TensorDataType)frame[6];
        if (dataType != TensorDataType.Float32)
            throw new FrameFormatException(FrameError.BadDataType, $"data type {frame[6]} is not supported in frame version 1 (only 1 = float32)");
        int rank = frame[7];
        if (rank > TensorShape.MaxRank)
            throw new FrameFormatException(FrameError.BadShape, $"rank {rank} exceeds the maximum of {TensorShape.MaxRank}");

        int at = 8;
        Need(frame, at + 4 * rank + 2, "dimensions");
        Span<long> dims = stackalloc long[rank];
        long elements = 1;
        for (int i = 0; i < rank; i++, at += 4)
        {
            dims[i] = BinaryPrimitives.ReadUInt32LittleEndian(frame[at..]);
            // Capped at 2^31 (already more than a tensor may hold), so the product below 2^31 * 2^32 never overflows.
            elements = Math.Min(elements * dims[i], 1L << 31);
        }
        // A shape whose element count cannot be allocated within the limit is refused before anything is reserved.
        limits.EnsureElementCount(elements);
        if (!TensorShape.TryCreate(dims, out var shape))
            throw new FrameFormatException(FrameError.BadShape, $"shape [{string.Join(", ", dims.ToArray())}] is not representable");

        int parametersLength = BinaryPrimitives.ReadUInt16LittleEndian(frame[at..]);
        at += 2;
        int parametersOffset = at;
        Need(frame, (long)at + parametersLength + 4, "codec parameters");
        at += parametersLength;
        uint payloadLength = BinaryPrimitives.ReadUInt32LittleEndian(frame[at..]);
        at += 4;
        Need(frame, at + (long)payloadLength + ChecksumSize, "payload and checksum");

        int checkedLength = at + (int)payloadLength;
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(frame[checkedLength..]);
        uint actual = Crc32C.Compute(frame[..checkedLength]);
        if (stored != actual)
            throw new FrameFormatException(FrameError.ChecksumMismatch, $"checksum mismatch: frame says {stored:X8}, content gives {actual:X8} (corrupted in transit?)");

        return new FrameHeader(Version, codec, dataType, shape!, parametersOffset, parametersLength, at, (int)payloadLength);
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

    private static void Need(ReadOnlySpan<byte> frame, long length, string what)
    {
        if (frame.Length < length)
            throw new FrameFormatException(FrameError.Truncated, $"frame is truncated: {what} need {length} bytes, only {frame.Length} present");
    }

    /// <summary>Reinterprets float values as their little-endian bytes (every supported platform is little-endian).</summary>
    internal static ReadOnlySpan<byte> AsBytes(ReadOnlySpan<float> values) => MemoryMarshal.AsBytes(values);
}
