namespace Cleave.Codecs;

/// <summary>How a <c>rans-ifc</c> payload stores its quantized symbols (the first payload byte).</summary>
public enum RansIfcLayout : byte
{
    /// <summary>One rANS block over every symbol, as <c>quant:entropy=rans</c> does (tensors without a dominant symbol).</summary>
    Dense = 0,
    /// <summary>
    /// CSR over the tensor reshaped to N columns: per-row counts, column gaps and the values of the symbols that differ
    /// from the background symbol, each stream in its own rANS block.
    /// </summary>
    Csr = 1,

    /// <summary>
    /// Row references (only with <c>rows=ref</c>): the symbols as rows along the last axis, each sent directly or as its
    /// difference from an earlier row (docs/format.md).
    /// </summary>
    Rows = 2,

    /// <summary>
    /// Spatial context (only with <c>ctx=2d</c>): every symbol range-coded under its left and upper neighbours
    /// (<see cref="SpatialContextCoder"/>, docs/format.md).
    /// </summary>
    Context = 3,
}
