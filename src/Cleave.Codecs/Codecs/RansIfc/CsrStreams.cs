using System.Buffers;

namespace Cleave.Codecs;

/// <summary>
/// The sparse layout of <c>rans-ifc</c>: the symbols, read as a matrix of N columns (row r holds elements r·N ..
/// r·N + N - 1; the last row may be shorter), become three streams: the count of foreground symbols in each row
/// (CSR row pointers as differences), the column of each foreground symbol as a gap (its column for the first in a
/// row, else the distance to the previous one less one), and the foreground symbols themselves.
/// Gaps rather than absolute columns: on independent positions they cost the order-0 entropy of the zero mask, where
/// absolute columns would cost log2 N bits each (measured in docs/codecs.md).
/// </summary>
internal sealed class CsrStreams : IDisposable
{
    /// <summary>Widest row: counts 0..N and gaps 0..N-1 must fit the rANS coder's 4096-symbol alphabet.</summary>
    public const int MaxColumns = 4095;

    private ushort[]? _counts, _gaps, _values;

    private CsrStreams(int columns, int rows, int foreground)
    {
        Columns = columns;
        Rows = rows;
        Foreground = foreground;
        _counts = ArrayPool<ushort>.Shared.Rent(Math.Max(1, rows));
        _gaps = ArrayPool<ushort>.Shared.Rent(Math.Max(1, foreground));
        _values = ArrayPool<ushort>.Shared.Rent(Math.Max(1, foreground));
    }

    public int Columns { get; }
    public int Rows { get; }
    public int Foreground { get; }

    public Span<ushort> RowCounts => _counts.AsSpan(0, Rows);
    public Span<ushort> ColumnGaps => _gaps.AsSpan(0, Foreground);
    public Span<ushort> Values => _values.AsSpan(0, Foreground);

    public static int RowsFor(long count, int columns) => (int)((count + columns - 1) / columns);

    /// <summary>Splits <paramref name="symbols"/> into the three streams (pooled buffers: dispose the result).</summary>
    public static CsrStreams Build(ReadOnlySpan<ushort> symbols, int background, int foreground, int columns)
    {
        var streams = new CsrStreams(columns, RowsFor(symbols.Length, columns), foreground);
        var counts = streams.RowCounts;
        var gaps = streams.ColumnGaps;
        var values = streams.Values;
        counts.Clear();
        int k = 0, row = 0, rowStart = 0, rowEnd = Math.Min(columns, symbols.Length), previous = -1;
        var positions = new ForegroundPositions(symbols, (ushort)background);
        while (positions.MoveNext(out int i))
        {
            if (i >= rowEnd)
            {
                // Skip to the row holding i; rows passed over keep their count of 0.
                row = i / columns;
                rowStart = row * columns;
                rowEnd = Math.Min(rowStart + columns, symbols.Length);
                previous = rowStart - 1;
            }
            gaps[k] = (ushort)(i - previous - 1);
            values[k++] = symbols[i];
            counts[row]++;
            previous = i;
        }
        if (k != foreground) throw new InvalidOperationException($"counted {k} foreground symbols, statistics said {foreground}");
        return streams;
    }

    /// <summary>
    /// Allocates empty streams for a decoder; <paramref name="rows"/> and <paramref name="foreground"/> must already be
    /// bounded by the tensor's element count.
    /// </summary>
    public static CsrStreams ForDecoding(int columns, int rows, int foreground) => new(columns, rows, foreground);

    /// <summary>
    /// Writes every element of <paramref name="destination"/>: the background level, then each foreground value at the
    /// position its row and gaps give. The streams came from a payload, so every count, gap and value is checked.
    /// </summary>
    public void Scatter(float[] levelValues, int background, Span<float> destination)
    {
        destination.Fill(levelValues[background]);
        var counts = RowCounts;
        var gaps = ColumnGaps;
        var values = Values;
        long total = 0;
        foreach (ushort c in counts) total += c;
        if (total != Foreground)
            throw new FrameFormatException(FrameError.CorruptPayload, $"rans-ifc row counts add up to {total}, the payload announces {Foreground} values");
        int k = 0;
        for (int r = 0, start = 0; r < counts.Length; r++, start += Columns)
        {
            int length = Math.Min(Columns, destination.Length - start);
            int column = -1;
            for (int end = k + counts[r]; k < end; k++)
            {
                column += gaps[k] + 1;
                if (column >= length)
                    throw new FrameFormatException(FrameError.CorruptPayload, $"rans-ifc row {r}: a column gap points past the row's {length} columns");
                ushort v = values[k];
                if (v >= levelValues.Length || v == background)
                    throw new FrameFormatException(FrameError.CorruptPayload, $"rans-ifc value {v} at {k} is the background symbol or beyond {levelValues.Length} levels");
                destination[start + column] = levelValues[v];
            }
        }
    }

    public void Dispose()
    {
        if (_counts is not null) ArrayPool<ushort>.Shared.Return(_counts);
        if (_gaps is not null) ArrayPool<ushort>.Shared.Return(_gaps);
        if (_values is not null) ArrayPool<ushort>.Shared.Return(_values);
        _counts = _gaps = _values = null;
    }
}
