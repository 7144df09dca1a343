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
    /// <summary>SLICER-style asymmetric top-K + magnitude splitting + adaptive bit quantization (issue 4).</summary>
    Slicer = 7,
    /// <summary>Quantize + CSR sparse layout + rANS (issue 4).</summary>
    RansIfc = 8,
}
