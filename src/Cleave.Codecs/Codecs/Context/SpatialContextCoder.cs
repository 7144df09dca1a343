using System.Buffers;
using Cleave.Codecs.Entropy;

namespace Cleave.Codecs;

/// <summary>
/// Codes quantized symbols one at a time with the adaptive <see cref="BinaryRangeEncoder"/>, each under the context
/// of its left and upper neighbours (along the last axis, and the axis before it: W and H of an NCHW feature map,
/// the previous token for a [T, d] hidden state), each neighbour classed by its signed distance from the background
/// symbol, clamped to -3..3. A symbol's bits, most significant first, walk a binary tree with one adaptive
/// probability per node and context, so a symbol costs what its neighbours make it likely to be; no table travels.
/// Why: quantized feature maps are smooth, and an order-0 code cannot see it. On MobileNetV2 expanded_conv_5/add
/// at 6 levels the empirical entropy given (left, up) is 16.5 % below the order-0 entropy (docs/codecs.md).
/// </summary>
internal static class SpatialContextCoder
{
    private const int Classes = 7;
    private const int Reach = Classes / 2;
    private const int ProbabilityOne = 1 << BinaryRangeEncoder.ProbabilityBits;

    public static void Encode(ReadOnlySpan<ushort> symbols, TensorShape shape, int bits, int background, IBufferWriter<byte> output) =>
        Encode(symbols, shape, bits, background, output, prior: default, compact: false);

    /// <summary>
    /// As <see cref="Encode(ReadOnlySpan{ushort}, TensorShape, int, int, IBufferWriter{byte})"/>, the cells starting from
    /// <paramref name="prior"/> (<see cref="CellCount"/> cells; empty = all at <see cref="AdaptiveBit.Initial"/>) and,
    /// when <paramref name="compact"/>, finished with <see cref="BinaryRangeEncoder.FinishCompact"/> and written without
    /// the stream's leading zero byte (read back with <see cref="DecodeCompact"/>). Used by layout-2 resilient frames.
    /// </summary>
    public static void Encode(ReadOnlySpan<ushort> symbols, TensorShape shape, int bits, int background, IBufferWriter<byte> output,
        ReadOnlySpan<AdaptiveBit> prior, bool compact)
    {
        var (width, plane) = Geometry(shape, symbols.Length);
        var probabilities = NewProbabilities(bits, prior);
        var target = compact ? new ArrayBufferWriter<byte>(symbols.Length / 4 + 16) : output;
        var encoder = new BinaryRangeEncoder(target);
        int x = 0, inPlane = 0;
        for (int i = 0; i < symbols.Length; i++)
        {
            int context = Context(symbols, i, x, inPlane, width, background) << bits;
            EncodeSymbol(encoder, probabilities, context, symbols[i], bits);
            if (++x == width) x = 0;
            if (++inPlane == plane) inPlane = 0;
        }
        if (!compact)
        {
            encoder.Finish();
            return;
        }
        encoder.FinishCompact();
        output.Write(((ArrayBufferWriter<byte>)target).WrittenSpan[1..]);
    }

    /// <summary>Cells of the context model for symbols of <paramref name="bits"/> bits: one binary tree per context.</summary>
    public static int CellCount(int bits) => ContextCount << bits;

    /// <summary>Contexts of the model (neighbour classes left x up); a cell is context &lt;&lt; bits | tree node.</summary>
    public const int ContextCount = Classes * Classes;

    /// <summary>
    /// Adds to <paramref name="zeros"/> and <paramref name="ones"/> (<see cref="CellCount"/> each) how often each cell
    /// codes a 0 and a 1 for these symbols: what a prior for the model is fitted to.
    /// </summary>
    public static void CountDecisions(ReadOnlySpan<ushort> symbols, TensorShape shape, int bits, int background, Span<int> zeros, Span<int> ones)
    {
        var (width, plane) = Geometry(shape, symbols.Length);
        int x = 0, inPlane = 0;
        for (int i = 0; i < symbols.Length; i++)
        {
            int context = Context(symbols, i, x, inPlane, width, background) << bits;
            int node = 1;
            for (int b = bits - 1; b >= 0; b--)
            {
                int bit = (symbols[i] >> b) & 1;
                if (bit == 0) zeros[context + node]++;
                else ones[context + node]++;
                node = (node << 1) | bit;
            }
            if (++x == width) x = 0;
            if (++inPlane == plane) inPlane = 0;
        }
    }

    /// <summary>
    /// Rate-distortion optimized quantization (<c>rdo=λ</c>), encoder only: <paramref name="symbols"/> holds each value's
    /// nearest level on entry; each may be moved to the neighbouring level on the value's other side when that lowers
    /// (u − q)² + λ·bits, u being the value in steps (value / scale + zp), bits what the symbol would cost under the
    /// context model as it stands at that point (the one the decoder will have). The chosen symbols are coded as
    /// <see cref="Encode(ReadOnlySpan{ushort}, TensorShape, int, int, IBufferWriter{byte})"/> codes them and written back to <paramref name="symbols"/>, so the stream decodes with the
    /// plain decoder. Why: near a decision boundary the two levels differ little in error but can differ by bits in
    /// cost (the neighbours make one of them likely); plain rounding ignores it.
    /// </summary>
    /// <param name="lambda">Squared steps one bit is worth (0 = plain rounding).</param>
    public static void EncodeChoosing(ReadOnlySpan<float> values, float scale, int zeroPoint, int levels, double lambda,
        Span<ushort> symbols, TensorShape shape, int bits, int background, IBufferWriter<byte> output)
    {
        var (width, plane) = Geometry(shape, symbols.Length);
        var probabilities = NewProbabilities(bits, default);
        var encoder = new BinaryRangeEncoder(output);
        float inverse = 1f / scale, weight = (float)lambda;
        int x = 0, inPlane = 0;
        for (int i = 0; i < symbols.Length; i++)
        {
            int context = Context(symbols, i, x, inPlane, width, background) << bits;
            int s = symbols[i];
            float v = values[i];
            if (float.IsFinite(v))
            {
                float u = v * inverse + zeroPoint;
                int other = u > s ? s + 1 : s - 1;
                if (other >= 0 && other < levels)
                {
                    float keep = (u - s) * (u - s) + weight * Bits(probabilities, context, s, bits);
                    float move = (u - other) * (u - other) + weight * Bits(probabilities, context, other, bits);
                    if (move < keep) symbols[i] = (ushort)(s = other);
                }
            }
            EncodeSymbol(encoder, probabilities, context, s, bits);
            if (++x == width) x = 0;
            if (++inPlane == plane) inPlane = 0;
        }
        encoder.Finish();
    }

    /// <summary>Codes one symbol's bits, most significant first, down the binary tree of <paramref name="context"/>, updating its cells.</summary>
    private static void EncodeSymbol(BinaryRangeEncoder encoder, AdaptiveBit[] probabilities, int context, int symbol, int bits)
    {
        int node = 1;
        for (int b = bits - 1; b >= 0; b--)
        {
            int bit = (symbol >> b) & 1;
            ref var cell = ref probabilities[context + node];
            encoder.Encode(cell.Probability, bit);
            cell.Update(bit);
            node = (node << 1) | bit;
        }
    }

    /// <summary>What <paramref name="symbol"/> would cost now in <paramref name="context"/>, in bits.</summary>
    private static float Bits(AdaptiveBit[] probabilities, int context, int symbol, int bits)
    {
        float total = 0;
        int node = 1;
        for (int b = bits - 1; b >= 0; b--)
        {
            int bit = (symbol >> b) & 1;
            uint zero = probabilities[context + node].Probability;
            total += BitCost[bit == 0 ? zero : ProbabilityOne - zero];
            node = (node << 1) | bit;
        }
        return total;
    }

    /// <summary>−log2(p / 2048) for p = 0..2048 (index 0 never occurs: a cell's probability stays within 1..2047).</summary>
    private static readonly float[] BitCost = BuildBitCost();

    private static float[] BuildBitCost()
    {
        var table = new float[ProbabilityOne + 1];
        table[0] = 32;
        for (int p = 1; p < table.Length; p++) table[p] = (float)-Math.Log2(p / (double)ProbabilityOne);
        return table;
    }

    /// <summary>
    /// Binary decisions one byte of stream can carry at most: 367. Why: <see cref="AdaptiveBit"/>'s probability of a 0
    /// stays within 31..2017 of 2048 (every reachable state, checked in the tests), so with the range at least 2^24
    /// before a decision (it is: the smaller part is at least range·31/2048 and one 8-bit shift restores it), one
    /// decision leaves at most 2017/2048 + 2047/2^24 of the range, 0.021826 bits of log2(range) or more. The range
    /// starts below 2^32 and ends at or above 2^24, and each stream byte read after the first five adds exactly 8 bits,
    /// so D decisions need 8·(L − 5) + 8 ≥ 0.021826·D: at most 366.5·(L − 4) decisions from a stream of L bytes.
    /// </summary>
    public const int MaxDecisionsPerByte = 367;

    /// <summary>The fewest stream bytes that can carry <paramref name="symbols"/> symbols of <paramref name="bits"/> decisions each.</summary>
    public static long MinimumStreamBytes(long symbols, int bits) =>
        symbols <= 0 ? 0 : 4 + symbols * Math.Max(1, bits) / MaxDecisionsPerByte;

    /// <summary>Decodes <paramref name="destination"/>.Length symbols from exactly <paramref name="input"/>; throws <see cref="FrameFormatException"/> on a symbol at or beyond <paramref name="levels"/> or a stream of the wrong length.</summary>
    /// <remarks>A stream too short for the count is refused before any work, and decoding stops as soon as it reads past the end.</remarks>
    public static void Decode(ReadOnlySpan<byte> input, TensorShape shape, int bits, int levels, int background, Span<ushort> destination) =>
        Decode(input, shape, bits, levels, background, destination, prior: default, compact: false);

    /// <summary>Decodes what the compact <see cref="Encode(ReadOnlySpan{ushort}, TensorShape, int, int, IBufferWriter{byte}, ReadOnlySpan{AdaptiveBit}, bool)"/>
    /// wrote with the same <paramref name="prior"/>; the minimum length is the plain stream's less the implied bytes.</summary>
    public static void DecodeCompact(ReadOnlySpan<byte> input, TensorShape shape, int bits, int levels, int background, Span<ushort> destination,
        ReadOnlySpan<AdaptiveBit> prior) =>
        Decode(input, shape, bits, levels, background, destination, prior, compact: true);

    private static void Decode(ReadOnlySpan<byte> input, TensorShape shape, int bits, int levels, int background, Span<ushort> destination,
        ReadOnlySpan<AdaptiveBit> prior, bool compact)
    {
        long needed = MinimumStreamBytes(destination.Length, bits) - (compact ? BinaryRangeEncoder.CompactImpliedBytes : 0);
        if (input.Length < needed)
            throw new FrameFormatException(FrameError.Truncated,
                $"a context-coded stream of {input.Length} bytes cannot carry {destination.Length} symbols of {bits} bits (at least {needed} bytes)");
        var (width, plane) = Geometry(shape, destination.Length);
        var probabilities = NewProbabilities(bits, prior);
        var decoder = compact ? BinaryRangeDecoder.Compact(input) : new BinaryRangeDecoder(input);
        int x = 0, inPlane = 0, top = 1 << bits;
        for (int i = 0; i < destination.Length; i++)
        {
            int context = Context(destination, i, x, inPlane, width, background) << bits;
            int node = 1;
            while (node < top)
            {
                ref var cell = ref probabilities[context + node];
                int bit = decoder.Decode(cell.Probability);
                cell.Update(bit);
                node = (node << 1) | bit;
            }
            int s = node - top;
            if (s >= levels) throw new FrameFormatException(FrameError.CorruptPayload, $"context-coded symbol {s} at {i} is beyond {levels} levels");
            destination[i] = (ushort)s;
            if (decoder.Overran)
                throw new FrameFormatException(FrameError.Truncated, $"the context-coded stream of {input.Length} bytes ended at symbol {i} of {destination.Length}");
            if (++x == width) x = 0;
            if (++inPlane == plane) inPlane = 0;
        }
        decoder.ExpectExactEnd();
    }

    private static (int Width, int Plane) Geometry(TensorShape shape, int n)
    {
        int width = shape.Rank >= 1 ? Math.Max(1, shape[shape.Rank - 1]) : Math.Max(1, n);
        int height = shape.Rank >= 2 ? Math.Max(1, shape[shape.Rank - 2]) : 1;
        return (width, (int)Math.Min(int.MaxValue, (long)width * height));
    }

    [ThreadStatic] private static AdaptiveBit[]? t_cells;

    /// <summary>
    /// A fresh model: a copy of <paramref name="prior"/> when one is given (<see cref="CellCount"/> cells), flat otherwise.
    /// The cells live in one array per thread, reused by every stream that thread codes (none calls another). Why: a
    /// resilient frame codes up to 4,096 groups, and a new model each (up to 800 KB at 12 bits) would allocate far beyond
    /// the decode limits in garbage alone.
    /// </summary>
    private static AdaptiveBit[] NewProbabilities(int bits, ReadOnlySpan<AdaptiveBit> prior)
    {
        int count = CellCount(bits);
        var p = t_cells is { } cached && cached.Length >= count ? cached : (t_cells = new AdaptiveBit[count]);
        if (prior.IsEmpty) p.AsSpan(0, count).Fill(AdaptiveBit.Initial);
        else prior.CopyTo(p);
        return p;
    }

    /// <summary>Bytes a decode may allocate for the model: the cells, once per thread.</summary>
    public static long ModelBytes(int bits) => 4L * CellCount(bits);

    /// <summary>Neighbours outside the map (first column, first row of a plane) count as the background symbol.</summary>
    private static int Context(ReadOnlySpan<ushort> symbols, int i, int x, int inPlane, int width, int background)
    {
        int left = x > 0 ? symbols[i - 1] : background;
        int up = inPlane >= width ? symbols[i - width] : background;
        return Class(left, background) * Classes + Class(up, background);
    }

    private static int Class(int symbol, int background) => Math.Clamp(symbol - background, -Reach, Reach) + Reach;
}
