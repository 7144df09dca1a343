using System.Buffers;
using System.Runtime.InteropServices;

namespace Cleave.Codecs;

/// <summary><c>deflate:level=L</c>: raw deflate (RFC 1951) over the float32 bytes. Lossless; a reference.</summary>
public sealed class DeflateCodec : FeatureCodec
{
    public const int MinLevel = 0, MaxLevel = 9, DefaultLevel = 6;
    private readonly byte[] _parameters;

    public DeflateCodec(int level)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(level, MinLevel);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, MaxLevel);
        Level = level;
        _parameters = [(byte)level];
    }

    public int Level { get; }
    public override CodecId Id => CodecId.Deflate;
    public override string Spec => $"deflate:level={Level}";
    public override ReadOnlySpan<byte> ParameterBytes => _parameters;
    public override bool IsLossless => true;

    internal static DeflateCodec FromSpec(CodecSpec spec) => new(spec.GetInt("level", DefaultLevel, MinLevel, MaxLevel));

    internal static DeflateCodec FromParameters(ReadOnlySpan<byte> parameters)
    {
        if (parameters.Length != 1 || parameters[0] > MaxLevel)
            throw new FrameFormatException(FrameError.BadParameters, "deflate parameters must be 1 byte holding a level 0..9");
        return new DeflateCodec(parameters[0]);
    }

    protected internal override void EncodePayload(ReadOnlySpan<float> values, TensorShape shape, IBufferWriter<byte> payload) =>
        ByteCompressors.DeflateCompress(MemoryMarshal.AsBytes(values), Level, payload);

    protected internal override void DecodePayload(ReadOnlySpan<byte> payload, TensorShape shape, Span<float> destination) =>
        ByteCompressors.DeflateDecompress(payload, MemoryMarshal.AsBytes(destination), "deflate payload");
}
