using System.Buffers;
using System.Runtime.InteropServices;

namespace Cleave.Codecs;

/// <summary><c>raw</c>: float32 little-endian, bit-exact. The reference every ratio is measured against.</summary>
public sealed class RawCodec : FeatureCodec
{
    public static RawCodec Instance { get; } = new();

    private RawCodec() { }

    public override CodecId Id => CodecId.Raw;
    public override string Spec => "raw";
    public override ReadOnlySpan<byte> ParameterBytes => [];
    public override bool IsLossless => true;

    protected internal override void EncodePayload(ReadOnlySpan<float> values, TensorShape shape, IBufferWriter<byte> payload) =>
        payload.Write(MemoryMarshal.AsBytes(values));

    protected internal override void DecodePayload(ReadOnlySpan<byte> payload, TensorShape shape, Span<float> destination)
    {
        PayloadReader.ExpectLength(payload, (long)destination.Length * 4, "raw float32 payload");
        payload.CopyTo(MemoryMarshal.AsBytes(destination));
    }

    /// <summary>Exactly four bytes an element.</summary>
    protected internal override long MinimumPayloadBytes(ReadOnlySpan<byte> payload, TensorShape shape) => 4L * shape.ElementCount;
}
