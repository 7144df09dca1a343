using System.Buffers;
using System.Numerics;
using Cleave.Codecs.Entropy;

namespace Cleave.Codecs;

/// <summary>How the slicer payload says which elements survived top-K.</summary>
internal enum PositionLayout : byte
{
    /// <summary>Every element survived (keep = 1): positions cost nothing.</summary>
    All = 0,
    /// <summary>An n-bit map (bit i of byte i/8, LSB first), rANS-coded as ⌈n/8⌉ byte symbols.</summary>
    Bitmap = 1,
    /// <summary>CSR-like gaps between survivors: rANS-coded gap classes plus raw extra bits.</summary>
    Gaps = 2,
    /// <summary>Every element survived and the symbols are sent as row references (only with <c>rows=ref</c>).</summary>
    AllRows = 3,
    /// <summary>Every element survived and the symbols are sent as context-coded value ranks (only with <c>ctx=2d</c>).</summary>
    AllContext = 4,
}

/// <summary>
/// Codes the ascending survivor indices as a bitmap or as gaps, whichever the order-0 estimate says is cheaper.
/// A gap g (survivors p_{i-1} &lt; p_i, g = p_i - p_{i-1} - 1, p_{-1} = -1) is coded as v = g + 1 &gt;= 1:
/// v &lt; 4 is class v - 1; otherwise, with L = bit length of v, class 3 + 4 (L - 3) + (the two bits after v's
/// leading one) followed by the L - 3 low bits of v, LSB first (two mantissa bits keep geometric gaps within a few
/// percent of their entropy). 123 classes cover any 32-bit gap.
/// </summary>
internal static class SurvivorPositions
{
    public const int GapClasses = 123;

    /// <summary>Chooses a layout for the survivors and writes it (the survivor count is written by the caller).</summary>
    public static PositionLayout Write(ReadOnlySpan<int> survivors, int n, IBufferWriter<byte> output)
    {
        if (survivors.Length == n) return PositionLayout.All;
        int bitmapLength = (n + 7) / 8;
        byte[] bitmap = ArrayPool<byte>.Shared.Rent(bitmapLength);
        byte[] classes = ArrayPool<byte>.Shared.Rent(survivors.Length);
        try
        {
            var map = bitmap.AsSpan(0, bitmapLength);
            map.Clear();
            foreach (int p in survivors) map[p >> 3] |= (byte)(1 << (p & 7));
            var gapClasses = classes.AsSpan(0, survivors.Length);
            long extraBits = 0;
            int previous = -1;
            for (int i = 0; i < survivors.Length; i++)
            {
                uint v = (uint)(survivors[i] - previous);
                previous = survivors[i];
                gapClasses[i] = ClassOf(v, out int extra);
                extraBits += extra;
            }
            // Table costs are similar (a few dozen bytes) for both, so the estimate compares entropies.
            double bitmapCost = EntropyStatistics.Order0Bytes(map);
            double gapCost = EntropyStatistics.Order0Bytes(gapClasses) + extraBits / 8.0;
            if (bitmapCost <= gapCost)
            {
                RansCoder.Encode(map, 256, output);
                return PositionLayout.Bitmap;
            }
            RansCoder.Encode(gapClasses, GapClasses, output);
            int extraLength = (int)((extraBits + 7) / 8);
            Span<byte> packed = output.GetSpan(extraLength)[..extraLength];
            packed.Clear();
            long bit = 0;
            previous = -1;
            for (int i = 0; i < survivors.Length; i++)
            {
                uint v = (uint)(survivors[i] - previous);
                previous = survivors[i];
                ClassOf(v, out int extra);
                for (int b = 0; b < extra; b++, bit++)
                    if (((v >> b) & 1) != 0) packed[(int)(bit >> 3)] |= (byte)(1 << (int)(bit & 7));
            }
            output.Advance(extraLength);
            return PositionLayout.Gaps;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bitmap);
            ArrayPool<byte>.Shared.Return(classes);
        }
    }

    internal static byte ClassOf(uint v, out int extraBits)
    {
        if (v < 4) { extraBits = 0; return (byte)(v - 1); }
        int length = 32 - BitOperations.LeadingZeroCount(v);
        extraBits = length - 3;
        return (byte)(3 + 4 * (length - 3) + (int)((v >> (length - 3)) & 3));
    }

    /// <summary>Reads <paramref name="survivors"/>.Length ascending indices below n; returns the bytes consumed.</summary>
    public static int Read(PositionLayout layout, ReadOnlySpan<byte> data, int n, Span<int> survivors)
    {
        int k = survivors.Length;
        switch (layout)
        {
            case PositionLayout.All:
                if (k != n) throw new FrameFormatException(FrameError.CorruptPayload, $"slicer payload keeps {k} of {n} elements but has no positions");
                for (int i = 0; i < n; i++) survivors[i] = i;
                return 0;
            case PositionLayout.Bitmap:
                return ReadBitmap(data, n, survivors);
            case PositionLayout.Gaps:
                return ReadGaps(data, n, survivors);
            default:
                throw new FrameFormatException(FrameError.CorruptPayload, $"slicer position layout {(byte)layout} is unknown");
        }
    }

    private static int ReadBitmap(ReadOnlySpan<byte> data, int n, Span<int> survivors)
    {
        int length = (n + 7) / 8;
        byte[] bitmap = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var map = bitmap.AsSpan(0, length);
            int used = RansCoder.Decode(data, map);
            if ((n & 7) != 0 && (map[^1] >> (n & 7)) != 0)
                throw new FrameFormatException(FrameError.CorruptPayload, "slicer survivor bitmap has bits set past the last element");
            int at = 0;
            for (int byteIndex = 0; byteIndex < length; byteIndex++)
            {
                uint bits = map[byteIndex];
                while (bits != 0)
                {
                    if (at == survivors.Length)
                        throw new FrameFormatException(FrameError.CorruptPayload, $"slicer survivor bitmap marks more than the {survivors.Length} survivors announced");
                    survivors[at++] = byteIndex * 8 + BitOperations.TrailingZeroCount(bits);
                    bits &= bits - 1;
                }
            }
            if (at != survivors.Length)
                throw new FrameFormatException(FrameError.CorruptPayload, $"slicer survivor bitmap marks {at} elements, the payload announces {survivors.Length}");
            return used;
        }
        finally { ArrayPool<byte>.Shared.Return(bitmap); }
    }

    private static int ReadGaps(ReadOnlySpan<byte> data, int n, Span<int> survivors)
    {
        int k = survivors.Length;
        byte[] classes = ArrayPool<byte>.Shared.Rent(k);
        try
        {
            var gapClasses = classes.AsSpan(0, k);
            int used = RansCoder.Decode(data, gapClasses);
            long extraBits = 0;
            foreach (byte c in gapClasses)
            {
                if (c >= GapClasses) throw new FrameFormatException(FrameError.CorruptPayload, $"slicer gap class {c} is outside 0..{GapClasses - 1}");
                if (c >= 3) extraBits += (c - 3) / 4;
            }
            long extraLength = (extraBits + 7) / 8;
            if (extraLength > data.Length - used)
                throw new FrameFormatException(FrameError.Truncated, $"slicer gap extra bits need {extraLength} bytes, {data.Length - used} remain");
            var packed = data.Slice(used, (int)extraLength);
            long bit = 0, position = -1;
            for (int i = 0; i < k; i++)
            {
                int c = gapClasses[i];
                long v;
                if (c < 3) v = c + 1;
                else
                {
                    int extra = (c - 3) / 4;
                    long low = 0;
                    for (int b = 0; b < extra; b++, bit++) low |= (long)((packed[(int)(bit >> 3)] >> (int)(bit & 7)) & 1) << b;
                    v = ((4L | (long)((c - 3) & 3)) << extra) | low;
                }
                position += v;
                if (position >= n)
                    throw new FrameFormatException(FrameError.CorruptPayload, $"slicer survivor {i} lies at {position}, past the {n} elements");
                survivors[i] = (int)position;
            }
            if ((extraBits & 7) != 0 && (packed[^1] >> (int)(extraBits & 7)) != 0)
                throw new FrameFormatException(FrameError.CorruptPayload, "slicer gap extra bits have padding bits set");
            return used + (int)extraLength;
        }
        finally { ArrayPool<byte>.Shared.Return(classes); }
    }
}
