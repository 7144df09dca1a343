using System.Buffers;
using System.Buffers.Binary;
using Cleave.Codecs.Entropy;

namespace Cleave.Codecs;

/// <summary>
/// Reads a slicer payload (docs/format.md, "slicer payload"). Every field is checked before it is used, so hostile
/// bytes end in <see cref="FrameFormatException"/>; work and memory are bounded by the tensor's element count.
/// </summary>
internal static class SlicerDecoder
{
    /// <param name="rowLength">The tensor's last dimension when the frame's parameters allow row references, else 0.</param>
    /// <param name="contextShape">The tensor's shape when the frame's parameters allow the context layout, else null.</param>
    public static void Decode(ReadOnlySpan<byte> payload, Span<float> destination, int rowLength = 0, TensorShape? contextShape = null)
    {
        int n = destination.Length;
        if (n == 0)
        {
            PayloadReader.ExpectLength(payload, 0, "slicer payload of an empty tensor");
            return;
        }
        var reader = new PayloadReader(payload, "slicer payload");
        var layout = (PositionLayout)reader.ReadByte();
        bool rowCoded = layout == PositionLayout.AllRows && rowLength > 0;
        bool contextCoded = layout == PositionLayout.AllContext && contextShape is not null;
        if (rowCoded || contextCoded) layout = PositionLayout.All;
        if (layout > PositionLayout.Gaps)
            throw new FrameFormatException(FrameError.CorruptPayload, $"slicer position layout {(byte)layout} is unknown (or needs rows=ref)");
        int k = n;
        if (layout != PositionLayout.All)
        {
            k = reader.ReadInt32();
            if (k < 1 || k >= n)
                throw new FrameFormatException(FrameError.CorruptPayload, $"slicer survivor count {k} is outside 1..{n - 1}");
        }

        int[] survivorArray = ArrayPool<int>.Shared.Rent(layout == PositionLayout.All ? 0 : k);
        ushort[] symbolArray = ArrayPool<ushort>.Shared.Rent(k);
        try
        {
            var survivors = survivorArray.AsSpan(0, layout == PositionLayout.All ? 0 : k);
            if (layout != PositionLayout.All)
                reader.Take(SurvivorPositions.Read(layout, reader.Rest, n, survivors));

            int blockCount = reader.ReadByte();
            if (blockCount is < 1 or > SlicerSettings.MaxBlocks)
                throw new FrameFormatException(FrameError.CorruptPayload, $"slicer block count {blockCount} is outside 1..{SlicerSettings.MaxBlocks}");
            Span<MagnitudeBlock> blocks = stackalloc MagnitudeBlock[blockCount];
            int alphabet = 0;
            for (int b = 0; b < blockCount; b++)
            {
                int levels = reader.ReadByte() + 1;
                float low = reader.ReadSingle();
                float step = levels > 1 ? reader.ReadSingle() : 0;
                if (!float.IsFinite(low) || low < 0 || !float.IsFinite(step) || (levels > 1 && step <= 0))
                    throw new FrameFormatException(FrameError.CorruptPayload, $"slicer block {b} has invalid low {low} or step {step}");
                blocks[b] = new MagnitudeBlock(levels, low, step);
                alphabet += 2 * levels;
            }
            if (alphabet > RansCoder.MaxAlphabetSize)
                throw new FrameFormatException(FrameError.CorruptPayload, $"slicer blocks need {alphabet} symbols, more than {RansCoder.MaxAlphabetSize}");

            // The value of every symbol, so decoding a survivor is one table load.
            Span<float> table = stackalloc float[alphabet];
            SlicerEncoder.FillValueTable(blocks, table);

            if (rowCoded)
            {
                DecodeRows(ref reader, table, rowLength, destination);
                return;
            }
            if (contextCoded)
            {
                DecodeContext(reader.Take(reader.Remaining), table, contextShape!, destination);
                return;
            }

            if (alphabet <= 256)
            {
                // The encoder codes byte symbols whenever the alphabet allows; the rANS block format is the same.
                var narrow = System.Runtime.InteropServices.MemoryMarshal.AsBytes(symbolArray.AsSpan(0, (k + 1) / 2))[..k];
                reader.Take(RansCoder.Decode(reader.Rest, narrow));
                reader.ExpectEnd();
                int badByte = alphabet == 256 ? -1 : narrow.IndexOfAnyInRange((byte)alphabet, byte.MaxValue);
                if (badByte >= 0)
                    throw new FrameFormatException(FrameError.CorruptPayload, $"slicer symbol {narrow[badByte]} at {badByte} is outside the {alphabet}-symbol alphabet");
                if (layout == PositionLayout.All)
                {
                    for (int i = 0; i < n; i++) destination[i] = table[narrow[i]];
                    return;
                }
                destination.Clear();
                for (int j = 0; j < k; j++) destination[survivors[j]] = table[narrow[j]];
                return;
            }

            var symbols = symbolArray.AsSpan(0, k);
            reader.Take(RansCoder.Decode(reader.Rest, symbols));
            reader.ExpectEnd();
            int bad = symbols.IndexOfAnyInRange((ushort)alphabet, ushort.MaxValue);
            if (bad >= 0)
                throw new FrameFormatException(FrameError.CorruptPayload, $"slicer symbol {symbols[bad]} at {bad} is outside the {alphabet}-symbol alphabet");

            if (layout == PositionLayout.All)
            {
                for (int i = 0; i < n; i++) destination[i] = table[symbols[i]];
                return;
            }
            destination.Clear();
            for (int j = 0; j < k; j++) destination[survivors[j]] = table[symbols[j]];
        }
        finally
        {
            ArrayPool<int>.Shared.Return(survivorArray);
            ArrayPool<ushort>.Shared.Return(symbolArray);
        }
    }

    /// <summary>Context-coded value ranks (every element kept), to the end of the payload.</summary>
    private static void DecodeContext(ReadOnlySpan<byte> stream, scoped ReadOnlySpan<float> table, TensorShape shape, Span<float> destination)
    {
        int alphabet = table.Length;
        Span<ushort> symbolOfRank = stackalloc ushort[alphabet];
        SlicerEncoder.OrderByValue(table, symbolOfRank);
        ushort[] rankArray = ArrayPool<ushort>.Shared.Rent(destination.Length);
        try
        {
            var ranks = rankArray.AsSpan(0, destination.Length);
            SpatialContextCoder.Decode(stream, shape, SlicerEncoder.ContextBits(alphabet), alphabet, SlicerEncoder.ZeroRank(table, symbolOfRank), ranks);
            for (int i = 0; i < ranks.Length; i++) destination[i] = table[symbolOfRank[ranks[i]]];
        }
        finally { ArrayPool<ushort>.Shared.Return(rankArray); }
    }

    /// <summary>Row-referenced value ranks (every element kept): rank r decodes to the r-th smallest table value.</summary>
    private static void DecodeRows(ref PayloadReader reader, scoped ReadOnlySpan<float> table, int rowLength, Span<float> destination)
    {
        int alphabet = table.Length;
        Span<ushort> symbolOfRank = stackalloc ushort[alphabet];
        SlicerEncoder.OrderByValue(table, symbolOfRank);
        Span<float> valueOfRank = stackalloc float[alphabet];
        for (int r = 0; r < alphabet; r++) valueOfRank[r] = table[symbolOfRank[r]];
        ushort[] rankArray = ArrayPool<ushort>.Shared.Rent(destination.Length);
        try
        {
            var ranks = rankArray.AsSpan(0, destination.Length);
            reader.Take(RowReferences.Decode(reader.Rest, rowLength, alphabet, ranks));
            reader.ExpectEnd();
            for (int i = 0; i < ranks.Length; i++) destination[i] = valueOfRank[ranks[i]];
        }
        finally { ArrayPool<ushort>.Shared.Return(rankArray); }
    }

    /// <summary>
    /// A context-coded payload (every element kept) holds a range-coded stream of at least
    /// <see cref="SpatialContextCoder.MinimumStreamBytes"/> for one decision a rank (its alphabet has at least two ranks).
    /// </summary>
    public static long MinimumPayloadBytes(ReadOnlySpan<byte> payload, long n, bool contextAllowed) =>
        contextAllowed && n > 0 && !payload.IsEmpty && (PositionLayout)payload[0] == PositionLayout.AllContext
            ? 1 + SpatialContextCoder.MinimumStreamBytes(n, 1) : 0;

    /// <summary>The pooled buffers <see cref="Decode"/> rents for this payload's layout (survivor count from its header).</summary>
    public static long ScratchBytes(ReadOnlySpan<byte> payload, long n, int rowLength)
    {
        if (n == 0 || payload.IsEmpty) return 0;
        var layout = (PositionLayout)payload[0];
        switch (layout)
        {
            case PositionLayout.All:
                return ScratchSize.Pooled(n, 2);
            case PositionLayout.AllRows:
                return 3 * ScratchSize.Pooled(n, 2) + ScratchSize.Pooled(n / Math.Max(1, rowLength), 2);
            case PositionLayout.AllContext:
                return 2 * ScratchSize.Pooled(n, 2);
            case PositionLayout.Bitmap or PositionLayout.Gaps:
                if (payload.Length < 5) return 0; // refused before renting
                long k = Math.Clamp((long)BinaryPrimitives.ReadInt32LittleEndian(payload[1..]), 0, n);
                // survivors (int) and symbols (ushort), then the position decoder's bitmap and gap classes.
                return ScratchSize.Pooled(k, 4) + ScratchSize.Pooled(k, 2) + ScratchSize.Pooled(n / 8 + 1, 1) + ScratchSize.Pooled(k, 1);
            default:
                return 0;
        }
    }
}
