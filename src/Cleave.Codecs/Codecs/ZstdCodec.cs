using System.Buffers;
using System.Runtime.InteropServices;

namespace Cleave.Codecs;

/// <summary><c>zstd:level=L</c>: zstd over the raw float32 bytes. Lossless; a reference, not a feature codec.</summary>
public sealed class ZstdCodec : FeatureCodec
{
    public const int MinLevel = -7, MaxLevel = 22, DefaultLevel = 3;
    private readonly byte[] _parameters;

    public ZstdCodec(int level)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(level, MinLevel);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, MaxLevel);
        Level = level;
        _parameters = [unchecked((byte)(sbyte)level)];
    }

    public int Level { get; }
    public override CodecId Id => CodecId.Zstd;
    public override string Spec => $"zstd:level={Level}";
    public override ReadOnlySpan<byte> ParameterBytes => _parameters;
    public override bool IsLossless => true;

    internal static ZstdCodec FromSpec(CodecSpec spec) => new(spec.GetInt("level", DefaultLevel, MinLevel, MaxLevel));

    internal static ZstdCodec FromParameters(ReadOnlySpan<byte> parameters)
    {
        if (parameters.Length != 1)
            throw new FrameFormatException(FrameError.BadParameters, $"zstd parameters are 1 byte, frame has {parameters.Length}");
        int level = (sbyte)parameters[0];
        if (level < MinLevel || level > MaxLevel)
            throw new FrameFormatException(FrameError.BadParameters, $"zstd level {level} is outside {MinLevel}..{MaxLevel}");
        return new ZstdCodec(level);
    }

    protected internal override void EncodePayload(ReadOnlySpan<float> values, TensorShape shape, IBufferWriter<byte> payload) =>
        ByteCompressors.ZstdCompress(MemoryMarshal.AsBytes(values), Level, payload);

    protected internal override void DecodePayload(ReadOnlySpan<byte> payload, TensorShape shape, Span<float> destination) =>
        ByteCompressors.ZstdDecompress(payload, MemoryMarshal.AsBytes(destination), "zstd payload");
}
