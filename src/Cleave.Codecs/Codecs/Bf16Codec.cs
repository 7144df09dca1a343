using System.Buffers;
using System.Buffers.Binary;

namespace Cleave.Codecs;

/// <summary>
/// <c>bf16</c>: the top 16 bits of float32 (8-bit exponent, 7-bit mantissa), rounded to nearest even. Keeps float32's
/// range, so nothing overflows; ±Inf stays ±Inf and NaN stays a (quiet) NaN.
/// </summary>
public sealed class Bf16Codec : FeatureCodec
{
    public static Bf16Codec Instance { get; } = new();

    private Bf16Codec() { }

    public override CodecId Id => CodecId.Bf16;
    public override string Spec => "bf16";
    public override ReadOnlySpan<byte> ParameterBytes => [];
    public override bool IsLossless => false;

    public static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        // Rounding could carry a NaN's mantissa into the exponent: keep NaN a NaN by setting a quiet bit instead.
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x0040);
        uint roundingBias = 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)((bits + roundingBias) >> 16);
    }

    public static float FromBFloat16(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);

    protected internal override void EncodePayload(ReadOnlySpan<float> values, TensorShape shape, IBufferWriter<byte> payload)
    {
        Span<byte> output = payload.GetSpan(values.Length * 2);
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteUInt16LittleEndian(output.Slice(2 * i, 2), ToBFloat16(values[i]));
        payload.Advance(values.Length * 2);
    }

    protected internal override void DecodePayload(ReadOnlySpan<byte> payload, TensorShape shape, Span<float> destination)
    {
        PayloadReader.ExpectLength(payload, (long)destination.Length * 2, "bf16 payload");
        for (int i = 0; i < destination.Length; i++)
            destination[i] = FromBFloat16(BinaryPrimitives.ReadUInt16LittleEndian(payload.Slice(2 * i, 2)));
    }

    /// <summary>Exactly two bytes an element.</summary>
    protected internal override long MinimumPayloadBytes(ReadOnlySpan<byte> payload, TensorShape shape) => 2L * shape.ElementCount;
}
