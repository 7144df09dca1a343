namespace Cleave.Codecs;

/// <summary>Bytes of a <c>rans-ifc</c> payload by part (predicted by the cost model or measured by coding).</summary>
/// <param name="Columns">The reshape width N, or 0 for the dense layout.</param>
/// <param name="Header">Layout byte, quantization grid and (CSR) width, background symbol and value count.</param>
/// <param name="RowCounts">The rANS block of per-row counts (0 for dense).</param>
/// <param name="ColumnGaps">The rANS block of column gaps (0 for dense).</param>
/// <param name="Values">The rANS block of the foreground values (dense: of every symbol).</param>
public readonly record struct CsrSize(int Columns, double Header, double RowCounts, double ColumnGaps, double Values)
{
    public double Total => Header + RowCounts + ColumnGaps + Values;
}
