namespace Cleave.Codecs;

/// <summary>The codec registry: builds a codec from a spec string, or from the id and parameters stored in a frame.</summary>
public static class FeatureCodecs
{
    /// <summary>Spec strings that show what each codec family looks like (used by help texts and the default bench).</summary>
    public static IReadOnlyList<string> Examples { get; } =
    [
        "raw", "fp16", "bf16",
        "quant:bits=8", "quant:bits=4", "quant:bits=8,entropy=rans", "quant:bits=4,entropy=rans",
        "quant:bits=8,per=channel,entropy=rans", "quant:bits=12,entropy=rans",
        "quant:bits=8,entropy=zstd", "quant:bits=4,entropy=zstd", "zstd:level=1", "zstd:level=9", "deflate:level=6",
        "rans-ifc:bits=8", "rans-ifc:bits=4,ncols=4", "rans-ifc:bits=5,levels=24,clip=3", "rans-ifc:bits=5,rows=ref",
        "rans-ifc:bits=3,levels=6,clip=3,ctx=2d", "rans-ifc:bits=3,levels=6,clip=3,ctx=2d,rdo=0.15",
        "slicer:keep=1,asym=1,blocks=8,delta=0.001", "slicer:keep=0.25,asym=0.5,blocks=4,delta=0.01",
        "slicer:keep=0.1,asym=1,blocks=1,delta=0", "slicer:target=snr:20,asym=1", "slicer:keep=1,asym=1,blocks=8,delta=0.001,rows=ref",
        "slicer:keep=1,asym=1,blocks=8,delta=0.001,ctx=2d",
    ];

    public static FeatureCodec Create(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (ResilientCodec.IsResilientSpec(spec)) return ResilientCodec.FromSpec(spec);
        var parsed = CodecSpec.Parse(spec);
        FeatureCodec codec = parsed.Name switch
        {
            "raw" => RawCodec.Instance,
            "fp16" => Fp16Codec.Instance,
            "bf16" => Bf16Codec.Instance,
            "quant" => QuantCodec.FromSpec(parsed),
            "zstd" => ZstdCodec.FromSpec(parsed),
            "deflate" => DeflateCodec.FromSpec(parsed),
            "rans-ifc" => RansIfcCodec.FromSpec(parsed),
            "slicer" => SlicerCodec.FromSpec(parsed),
            _ => throw new ArgumentException($"unknown codec '{parsed.Name}' (known: raw, fp16, bf16, quant, zstd, deflate, slicer, rans-ifc)"),
        };
        parsed.EnsureAllKeysUsed();
        return codec;
    }

    public static bool IsKnown(CodecId id) => id is >= CodecId.Raw and <= CodecId.RansIfc;

    /// <summary>Rebuilds a codec from a frame's header; hostile parameters give <see cref="FrameFormatException"/>.</summary>
    public static FeatureCodec FromParameters(CodecId id, ReadOnlySpan<byte> parameters) => id switch
    {
        CodecId.Raw => NoParameters(RawCodec.Instance, parameters),
        CodecId.Fp16 => NoParameters(Fp16Codec.Instance, parameters),
        CodecId.Bf16 => NoParameters(Bf16Codec.Instance, parameters),
        CodecId.Quant => QuantCodec.FromParameters(parameters),
        CodecId.Zstd => ZstdCodec.FromParameters(parameters),
        CodecId.Deflate => DeflateCodec.FromParameters(parameters),
        CodecId.RansIfc => RansIfcCodec.FromParameters(parameters),
        CodecId.Slicer => SlicerCodec.FromParameters(parameters),
        _ => throw new FrameFormatException(FrameError.UnknownCodec, $"unknown codec id {(byte)id}"),
    };

    private static FeatureCodec NoParameters(FeatureCodec codec, ReadOnlySpan<byte> parameters) =>
        parameters.IsEmpty ? codec
            : throw new FrameFormatException(FrameError.BadParameters, $"codec {codec.Spec} takes no parameters, frame has {parameters.Length} bytes");
}
