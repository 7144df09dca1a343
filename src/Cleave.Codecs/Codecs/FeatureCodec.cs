using System.Buffers;

namespace Cleave.Codecs;

/// <summary>
/// A configured tensor codec. <see cref="Encode(ReadOnlySpan{float}, TensorShape, IBufferWriter{byte})"/> writes a whole
/// self-describing frame; <see cref="FeatureFrame.Decode(ReadOnlySpan{byte}, out TensorShape, DecodeLimits?)"/> needs nothing but that
/// frame. Subclasses only turn values into a payload and back; the frame, checksum and validation are shared.
/// </summary>
public abstract class FeatureCodec
{
    public abstract CodecId Id { get; }

    /// <summary>The canonical spec string, e.g. <c>quant:bits=8,entropy=rans</c>; parsing it gives an equal codec.</summary>
    public abstract string Spec { get; }

    /// <summary>The codec's parameters as stored in the frame header (documented per codec in docs/format.md).</summary>
    public abstract ReadOnlySpan<byte> ParameterBytes { get; }

    /// <summary>True when decoding gives back exactly the encoded bits (NaN payloads included).</summary>
    public abstract bool IsLossless { get; }

    /// <summary>
    /// Appends one frame to <paramref name="output"/>: the payload is written straight into the output's memory, which
    /// is asked once for <see cref="GetMaxEncodedLength"/> bytes and advanced by the frame's length (no second copy).
    /// </summary>
    public void Encode(ReadOnlySpan<float> values, TensorShape shape, IBufferWriter<byte> output) =>
        FeatureFrame.Write(this, values, shape, output);

    public byte[] Encode(ReadOnlySpan<float> values, TensorShape shape)
    {
        var writer = new ArrayBufferWriter<byte>((int)Math.Min(GetMaxEncodedLength(shape), Array.MaxLength));
        Encode(values, shape, writer);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The most bytes a frame of <paramref name="shape"/> from this codec can take, header and checksum included (as
    /// Brotli's GetMaxCompressedLength): a buffer this long always holds the frame.
    /// </summary>
    public long GetMaxEncodedLength(TensorShape shape) => FeatureFrame.GetMaxEncodedLength(this, shape);

    /// <summary>
    /// The most payload bytes this codec writes for <paramref name="shape"/>, whatever the values. The default covers every
    /// codec here (tested on incompressible, constant, NaN and tiny tensors by the shared codec tests): float32 values
    /// plus an eighth for an entropy coder that expands incompressible data, plus room for side information (tables,
    /// per-channel grids, stream headers). A codec with a tighter bound may say so.
    /// </summary>
    protected internal virtual long MaxPayloadLength(TensorShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long raw = 4L * shape.ElementCount;
        return raw + raw / 8 + PayloadSideInformationBytes;
    }

    /// <summary>Side information a payload may carry beyond its values (see <see cref="MaxPayloadLength"/>).</summary>
    public const int PayloadSideInformationBytes = 16 << 10;

    /// <summary>
    /// The order-0 entropy of the symbol stream this codec would entropy-code for these values, in bytes, or null when
    /// the codec has no symbol stream (raw, fp16, lossless byte compressors).
    /// </summary>
    public virtual double? EntropyBoundBytes(ReadOnlySpan<float> values, TensorShape shape) => null;

    /// <summary>Writes the payload for <paramref name="values"/> (already checked to match <paramref name="shape"/>).</summary>
    protected internal abstract void EncodePayload(ReadOnlySpan<float> values, TensorShape shape, IBufferWriter<byte> payload);

    /// <summary>
    /// Fills <paramref name="destination"/> (exactly <c>shape.ElementCount</c> long) from a payload whose checksum has
    /// been verified but whose content may still be hostile: throw <see cref="FrameFormatException"/> on anything wrong.
    /// </summary>
    protected internal abstract void DecodePayload(ReadOnlySpan<byte> payload, TensorShape shape, Span<float> destination);

    /// <summary>
    /// The fewest payload bytes that any frame of this codec, with this payload's layout, needs for
    /// <paramref name="shape"/>'s elements: a lower bound that every frame the encoder writes meets (each codec says why),
    /// so a shorter payload is refused before anything is allocated or decoded. 0 where a legitimate payload can describe
    /// any number of elements in a few bytes (a constant tensor); there <see cref="DecodeLimits.MaxDecodedBytes"/> bounds the work.
    /// </summary>
    /// <param name="payload">The payload, whose checksum has been verified but whose content may be hostile.</param>
    protected internal virtual long MinimumPayloadBytes(ReadOnlySpan<byte> payload, TensorShape shape) => 0;

    /// <summary>
    /// The most scratch memory (<see cref="ScratchSize.Pooled"/>) that <see cref="DecodePayload"/> allocates for this
    /// payload and shape, beyond the destination: counted against <see cref="DecodeLimits.MaxAllocatedBytes"/> first.
    /// </summary>
    protected internal virtual long DecodeScratchBytes(ReadOnlySpan<byte> payload, TensorShape shape) => 0;

    public override string ToString() => Spec;
}
