namespace Cleave.Codecs;

/// <summary>Codec identifiers as written in byte 5 of a frame. Never renumber; add new codecs at the end.</summary>
public enum CodecId : byte
{
    Raw = 1,
    Fp16 = 2,
    Bf16 = 3,
    Quant = 4,
    Zstd = 5,
    Deflate = 6,
}
