using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Cleave.Codecs.Entropy;

namespace Cleave.Codecs;

/// <summary>
/// The row-reference stage behind <c>rows=ref</c> (docs/codecs.md, "Row references"): symbols are read as rows along
/// the tensor's last axis, and each row is sent either as itself or as its element-wise difference (mod the alphabet)
/// from one of the previous <see cref="MaxDistance"/> rows. Language-model hidden states at early layers repeat rows
/// (a recurring token gives a nearly identical row), which order-0 coding cannot see; the differences are mostly 0.
/// Symbols must be ordered so that neighbouring symbols are neighbouring values (a level index), so a row one level off
/// everywhere still gives small differences.
/// Stream: a rANS block of R reference symbols (0 = direct row, d = difference from row i - d; alphabet
/// min(MaxDistance, R - 1) + 1), then a rANS block of the direct rows' symbols and one of the referenced rows'
/// differences (each left out when empty).
/// </summary>
internal static class RowReferences
{
    /// <summary>How far back a row may point: keeps the reference alphabet within rANS's 4096 and the search bounded.</summary>
    public const int MaxDistance = 1024;

    /// <summary>
    /// The closest-row search compares at most about this many symbol pairs per tensor: the window is
    /// clamp(SearchBudget / n, <see cref="MinWindow"/>, <see cref="MaxDistance"/>) rows, so large tensors look back less
    /// far and encoding stays linear in n (a 5376-row post-ReLU6 map looks back 111 rows; stories260K's hidden states,
    /// at most 457 rows, are searched in full). The decoder does not depend on it.
    /// </summary>
    private const int SearchBudget = 1 << 24;

    private const int MinWindow = 16;

    private const double TableEntryBits = 12;

    /// <summary>Rounds of "choose per row, re-estimate the three tables" (measured: the second round changes &lt; 0.1 %).</summary>
    private const int ChoiceRounds = 2;

    /// <summary>The row length the stage uses for a tensor: its last dimension (1 for a scalar).</summary>
    public static int RowLength(TensorShape shape) => shape.Rank == 0 ? 1 : shape[shape.Rank - 1];

    /// <summary>Writes the streams for <paramref name="symbols"/> (all below <paramref name="alphabet"/>), read as rows of <paramref name="rowLength"/>.</summary>
    public static void Encode(ReadOnlySpan<ushort> symbols, int rowLength, int alphabet, IBufferWriter<byte> output)
    {
        int n = symbols.Length;
        int rows = n / rowLength;
        if (rows * rowLength != n) throw new ArgumentException($"{n} symbols are not whole rows of {rowLength}", nameof(symbols));
        int referenceAlphabet = Math.Min(MaxDistance, Math.Max(0, rows - 1)) + 1;
        var distance = ArrayPool<ushort>.Shared.Rent(rows);
        var best = ArrayPool<ushort>.Shared.Rent(rows);
        var agreement = ArrayPool<int>.Shared.Rent(rows);
        var direct = ArrayPool<ushort>.Shared.Rent(n);
        var differences = ArrayPool<ushort>.Shared.Rent(n);
        try
        {
            int window = (int)Math.Clamp(SearchBudget / Math.Max(1, n), MinWindow, MaxDistance);
            FindClosestRows(symbols, rowLength, rows, window, best.AsSpan(0, rows), agreement.AsSpan(0, rows));
            // Two first guesses (see Choose); the one whose final tables estimate fewer bits wins.
            var other = ArrayPool<ushort>.Shared.Rent(rows);
            try
            {
                double strict = Choose(symbols, rowLength, rows, alphabet, referenceAlphabet, best.AsSpan(0, rows), agreement.AsSpan(0, rows), true, distance.AsSpan(0, rows));
                double loose = Choose(symbols, rowLength, rows, alphabet, referenceAlphabet, best.AsSpan(0, rows), agreement.AsSpan(0, rows), false, other.AsSpan(0, rows));
                if (loose < strict) other.AsSpan(0, rows).CopyTo(distance);
            }
            finally { ArrayPool<ushort>.Shared.Return(other); }
            int directCount = 0, differenceCount = 0;
            for (int i = 0; i < rows; i++)
            {
                var row = symbols.Slice(i * rowLength, rowLength);
                int d = distance[i];
                if (d == 0)
                {
                    row.CopyTo(direct.AsSpan(directCount));
                    directCount += rowLength;
                    continue;
                }
                var earlier = symbols.Slice((i - d) * rowLength, rowLength);
                var target = differences.AsSpan(differenceCount, rowLength);
                for (int c = 0; c < rowLength; c++) target[c] = Difference(row[c], earlier[c], alphabet);
                differenceCount += rowLength;
            }
            RansCoder.Encode(distance.AsSpan(0, rows), referenceAlphabet, output);
            if (directCount > 0) RansCoder.Encode(direct.AsSpan(0, directCount), alphabet, output);
            if (differenceCount > 0) RansCoder.Encode(differences.AsSpan(0, differenceCount), alphabet, output);
        }
        finally
        {
            ArrayPool<ushort>.Shared.Return(distance);
            ArrayPool<ushort>.Shared.Return(best);
            ArrayPool<int>.Shared.Return(agreement);
            ArrayPool<ushort>.Shared.Return(direct);
            ArrayPool<ushort>.Shared.Return(differences);
        }
    }

    /// <summary>Reads the streams into <paramref name="symbols"/> (the tensor's length); returns the bytes consumed. Hostile input gives <see cref="FrameFormatException"/>.</summary>
    public static int Decode(ReadOnlySpan<byte> encoded, int rowLength, int alphabet, Span<ushort> symbols)
    {
        int n = symbols.Length;
        int rows = n / rowLength;
        int referenceAlphabet = Math.Min(MaxDistance, Math.Max(0, rows - 1)) + 1;
        var distanceArray = ArrayPool<ushort>.Shared.Rent(rows);
        var streamArray = ArrayPool<ushort>.Shared.Rent(n);
        try
        {
            var distance = distanceArray.AsSpan(0, rows);
            int at = RansCoder.Decode(encoded, distance);
            int bad = distance.IndexOfAnyInRange((ushort)referenceAlphabet, ushort.MaxValue);
            if (bad >= 0)
                throw new FrameFormatException(FrameError.CorruptPayload, $"row reference {distance[bad]} of row {bad} is outside 0..{referenceAlphabet - 1}");
            int directRows = 0;
            for (int i = 0; i < rows; i++)
            {
                if (distance[i] > i)
                    throw new FrameFormatException(FrameError.CorruptPayload, $"row {i} refers to row {i - distance[i]}, before the first");
                if (distance[i] == 0) directRows++;
            }
            int directCount = directRows * rowLength, differenceCount = n - directCount;
            var stream = streamArray.AsSpan(0, n);
            if (directCount > 0) at += DecodeChecked(encoded[at..], stream[..directCount], alphabet);
            if (differenceCount > 0) at += DecodeChecked(encoded[at..], stream[directCount..], alphabet);
            int nextDirect = 0, nextDifference = directCount;
            for (int i = 0; i < rows; i++)
            {
                var row = symbols.Slice(i * rowLength, rowLength);
                int d = distance[i];
                if (d == 0)
                {
                    stream.Slice(nextDirect, rowLength).CopyTo(row);
                    nextDirect += rowLength;
                    continue;
                }
                var earlier = symbols.Slice((i - d) * rowLength, rowLength);
                var source = stream.Slice(nextDifference, rowLength);
                for (int c = 0; c < rowLength; c++)
                {
                    int s = source[c] + earlier[c];
                    row[c] = (ushort)(s >= alphabet ? s - alphabet : s);
                }
                nextDifference += rowLength;
            }
            return at;
        }
        finally
        {
            ArrayPool<ushort>.Shared.Return(distanceArray);
            ArrayPool<ushort>.Shared.Return(streamArray);
        }
    }

    private static int DecodeChecked(ReadOnlySpan<byte> encoded, Span<ushort> destination, int alphabet)
    {
        int used = RansCoder.Decode(encoded, destination);
        int bad = destination.IndexOfAnyInRange((ushort)alphabet, ushort.MaxValue);
        if (bad >= 0)
            throw new FrameFormatException(FrameError.CorruptPayload, $"row symbol {destination[bad]} at {bad} is outside the {alphabet}-symbol alphabet");
        return used;
    }

    private static ushort Difference(ushort value, ushort earlier, int alphabet)
    {
        int d = value - earlier;
        return (ushort)(d < 0 ? d + alphabet : d);
    }

    /// <summary>
    /// For every row, the distance to the earlier row (within <paramref name="window"/>) that agrees with it in the most
    /// positions (the nearest on ties), or 0 for the first row. Equal positions are what the difference stream makes
    /// cheap; the count is 16 positions per compare.
    /// </summary>
    private static void FindClosestRows(ReadOnlySpan<ushort> symbols, int rowLength, int rows, int window, Span<ushort> best, Span<int> agreement)
    {
        if (rows > 0) { best[0] = 0; agreement[0] = 0; }
        for (int i = 1; i < rows; i++)
        {
            var row = symbols.Slice(i * rowLength, rowLength);
            int bestScore = -1, bestDistance = 0;
            int farthest = Math.Min(i, window);
            for (int d = 1; d <= farthest; d++)
            {
                int score = EqualCount(row, symbols.Slice((i - d) * rowLength, rowLength));
                if (score > bestScore)
                {
                    bestScore = score;
                    bestDistance = d;
                    if (score == rowLength) break;
                }
            }
            best[i] = (ushort)bestDistance;
            agreement[i] = bestScore;
        }
    }

    private static int EqualCount(ReadOnlySpan<ushort> a, ReadOnlySpan<ushort> b)
    {
        int count = 0, c = 0;
        if (Vector256.IsHardwareAccelerated && a.Length >= Vector256<ushort>.Count)
        {
            ref ushort x = ref MemoryMarshal.GetReference(a);
            ref ushort y = ref MemoryMarshal.GetReference(b);
            for (; c <= a.Length - Vector256<ushort>.Count; c += Vector256<ushort>.Count)
                count += BitOperations.PopCount(Vector256.Equals(Vector256.LoadUnsafe(ref x, (nuint)c), Vector256.LoadUnsafe(ref y, (nuint)c)).ExtractMostSignificantBits());
        }
        if (Vector128.IsHardwareAccelerated && a.Length - c >= Vector128<ushort>.Count)
        {
            // Row lengths like 28 or 56 leave a half vector.
            ref ushort x = ref MemoryMarshal.GetReference(a);
            ref ushort y = ref MemoryMarshal.GetReference(b);
            count += BitOperations.PopCount(Vector128.Equals(Vector128.LoadUnsafe(ref x, (nuint)c), Vector128.LoadUnsafe(ref y, (nuint)c)).ExtractMostSignificantBits());
            c += Vector128<ushort>.Count;
        }
        for (; c < a.Length; c++) if (a[c] == b[c]) count++;
        return count;
    }

    /// <summary>
    /// Decides per row between sending it directly and as a difference from its closest row, by estimated bits, and
    /// returns the estimated total. Each round estimates the three order-0 tables from the current choice and sends
    /// every row where they make it cheaper. The first guess matters (the rounds settle in a local optimum):
    /// <paramref name="strict"/> refers only the rows that agree with their closest row in at least half their
    /// positions (right when most rows are unrelated: referring them all makes the difference table as broad as the
    /// direct one), otherwise every row is referred (right for fine grids, where near-duplicate rows rarely agree
    /// exactly but differ by a level or two). The caller tries both.
    /// </summary>
    private static double Choose(ReadOnlySpan<ushort> symbols, int rowLength, int rows, int alphabet, int referenceAlphabet,
        ReadOnlySpan<ushort> best, ReadOnlySpan<int> agreement, bool strict, Span<ushort> distance)
    {
        for (int i = 0; i < rows; i++) distance[i] = !strict || 2 * agreement[i] >= rowLength ? best[i] : (ushort)0;
        double total = 0;
        var directCounts = new int[alphabet];
        var differenceCounts = new int[alphabet];
        var referenceCounts = new int[referenceAlphabet];
        var directBits = new double[alphabet];
        var differenceBits = new double[alphabet];
        var referenceBits = new double[referenceAlphabet];
        for (int round = 0; round < ChoiceRounds; round++)
        {
            total = 0;
            Array.Clear(directCounts);
            Array.Clear(differenceCounts);
            Array.Clear(referenceCounts);
            // The loose guess's first round takes the direct table from every row, as a plain block would code them.
            bool allDirect = !strict && round == 0;
            for (int i = 0; i < rows; i++)
            {
                int d = distance[i];
                referenceCounts[d]++;
                if (d == 0 || allDirect) AddRow(symbols.Slice(i * rowLength, rowLength), directCounts);
                if (d != 0) AddDifferences(symbols, i, d, rowLength, alphabet, differenceCounts);
            }
            Bits(directCounts, directBits);
            Bits(differenceCounts, differenceBits);
            Bits(referenceCounts, referenceBits);
            // A distance few rows use also pays for its entry in the reference table (about 12 bits, shared by its rows).
            for (int d = 1; d < referenceAlphabet; d++) referenceBits[d] += TableEntryBits / Math.Max(1, referenceCounts[d]);
            for (int i = 0; i < rows; i++)
            {
                if (best[i] == 0) { distance[i] = 0; continue; }
                var row = symbols.Slice(i * rowLength, rowLength);
                var earlier = symbols.Slice((i - best[i]) * rowLength, rowLength);
                double asItself = referenceBits[0], asDifference = referenceBits[best[i]];
                for (int c = 0; c < rowLength; c++)
                {
                    asItself += directBits[row[c]];
                    asDifference += differenceBits[Difference(row[c], earlier[c], alphabet)];
                }
                distance[i] = asDifference < asItself ? best[i] : (ushort)0;
                total += Math.Min(asItself, asDifference);
            }
        }
        return total;
    }

    private static void AddRow(ReadOnlySpan<ushort> row, int[] counts)
    {
        foreach (ushort s in row) counts[s]++;
    }

    private static void AddDifferences(ReadOnlySpan<ushort> symbols, int i, int d, int rowLength, int alphabet, int[] counts)
    {
        var row = symbols.Slice(i * rowLength, rowLength);
        var earlier = symbols.Slice((i - d) * rowLength, rowLength);
        for (int c = 0; c < rowLength; c++) counts[Difference(row[c], earlier[c], alphabet)]++;
    }

    /// <summary>Estimated bits per symbol from counts (half a count added, so unseen symbols are costly but finite).</summary>
    private static void Bits(int[] counts, double[] bits)
    {
        double total = 0;
        foreach (int c in counts) total += c + 0.5;
        for (int s = 0; s < counts.Length; s++) bits[s] = -Math.Log2((counts[s] + 0.5) / total);
    }
}
