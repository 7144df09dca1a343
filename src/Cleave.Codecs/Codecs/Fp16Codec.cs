using System.Buffers;
using System.Buffers.Binary;

namespace Cleave.Codecs;

/// <summary>
/// <c>fp16</c>: IEEE half precision, round to nearest even. NaN stays NaN, ±Inf stays ±Inf, and finite values beyond
/// ±65504 become ±Inf (the half-precision range), as a cast would.
/// </summary>
public sealed class Fp16Codec : FeatureCodec
{
    public static Fp16Codec Instance { get; } = new();

    private Fp16Codec() { }

    public override CodecId Id => CodecId.Fp16;
    public override string Spec => "fp16";
    public override ReadOnlySpan<byte> ParameterBytes => [];
    public override bool IsLossless => false;

    protected internal override void EncodePayload(ReadOnlySpan<float> values, TensorShape shape, IBufferWriter<byte> payload)
    {
        Span<byte> output = payload.GetSpan(values.Length * 2);
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteHalfLittleEndian(output.Slice(2 * i, 2), (Half)values[i]);
        payload.Advance(values.Length * 2);
    }

    protected internal override void DecodePayload(ReadOnlySpan<byte> payload, TensorShape shape, Span<float> destination)
    {
        PayloadReader.ExpectLength(payload, (long)destination.Length * 2, "fp16 payload");
        for (int i = 0; i < destination.Length; i++)
            destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(payload.Slice(2 * i, 2));
    }

    /// <summary>Exactly two bytes an element.</summary>
    protected internal override long MinimumPayloadBytes(ReadOnlySpan<byte> payload, TensorShape shape) => 2L * shape.ElementCount;
}
