using Cleave.Codecs.Entropy;

namespace Cleave.Codecs;

/// <summary>
/// The starting probabilities of the spatial context model (<see cref="SpatialContextCoder"/>) that a layout-2 resilient
/// frame sends once, in its protected header, so that each group's model starts from the whole tensor's statistics
/// instead of relearning them from flat (docs/format.md, "Layout 2"). Wire form: a bit mask of the contexts that carry a
/// prior (<see cref="MaskBytes"/> bytes, context c in bit c mod 8 of byte c / 8), then for each of them, in context order,
/// one 4-bit code per tree node that a symbol below the level count can reach (nodes 1 .. 2^bits − 1 in order, low
/// nibble first, a last odd nibble padded with 0). Code k means P(0) = 2048 · σ((k − 7.5) / 2) (47..2001 of 2048). A cell
/// with a prior starts settled (<see cref="AdaptiveBit.Settled"/>); every other cell starts flat.
/// </summary>
internal static class ContextPrior
{
    public const int MaskBytes = (SpatialContextCoder.ContextCount + 7) / 8;
    private const int Codes = 16;
    private const double LogitStep = 0.5;
    private static readonly uint[] CodeProbability = BuildCodeProbabilities();

    /// <summary>The tree nodes (1 .. 2^bits − 1) that some symbol below <paramref name="levels"/> passes through.</summary>
    public static int[] ReachableNodes(int bits, int levels)
    {
        var nodes = new List<int>();
        for (int node = 1; node < 1 << bits; node++)
        {
            int depth = 31 - System.Numerics.BitOperations.LeadingZeroCount((uint)node);
            if ((node - (1 << depth)) << (bits - depth) < levels) nodes.Add(node);
        }
        return [.. nodes];
    }

    /// <summary>Wire bytes of a prior for <paramref name="contexts"/> (ascending), fitted to the counted decisions.</summary>
    public static byte[] Write(ReadOnlySpan<int> contexts, ReadOnlySpan<int> zeros, ReadOnlySpan<int> ones, int bits, int levels)
    {
        if (contexts.IsEmpty) return [];
        int[] nodes = ReachableNodes(bits, levels);
        var bytes = new byte[MaskBytes + (contexts.Length * nodes.Length + 1) / 2];
        int nibble = 0;
        foreach (int c in contexts)
        {
            bytes[c >> 3] |= (byte)(1 << (c & 7));
            foreach (int node in nodes)
            {
                int cell = (c << bits) + node;
                double p = (zeros[cell] + 0.5) / (zeros[cell] + ones[cell] + 1.0);
                int code = Math.Clamp((int)Math.Round(Math.Log(p / (1 - p)) / LogitStep + (Codes - 1) / 2.0), 0, Codes - 1);
                bytes[MaskBytes + (nibble >> 1)] |= (byte)(code << (4 * (nibble & 1)));
                nibble++;
            }
        }
        return bytes;
    }

    /// <summary>Bytes the prior for <paramref name="contextCount"/> contexts takes.</summary>
    public static int Size(int contextCount, int bits, int levels) =>
        contextCount == 0 ? 0 : MaskBytes + (contextCount * ReachableNodes(bits, levels).Length + 1) / 2;

    /// <summary>
    /// The model's starting cells from the wire bytes at the start of <paramref name="source"/>; returns the bytes used.
    /// An empty <paramref name="source"/> or a mask of no context is no prior (every cell flat). Throws
    /// <see cref="FrameFormatException"/> for a mask bit beyond the contexts, a table cut short or a nonzero pad nibble.
    /// </summary>
    public static int Read(ReadOnlySpan<byte> source, int bits, int levels, out AdaptiveBit[] cells)
    {
        cells = [];
        if (source.Length < MaskBytes)
            throw new FrameFormatException(FrameError.Truncated, $"a context prior's mask needs {MaskBytes} bytes, {source.Length} are left");
        int count = 0;
        for (int c = 0; c < MaskBytes * 8; c++)
        {
            if ((source[c >> 3] >> (c & 7) & 1) == 0) continue;
            if (c >= SpatialContextCoder.ContextCount)
                throw new FrameFormatException(FrameError.BadParameters, $"the context prior names context {c}; there are {SpatialContextCoder.ContextCount}");
            count++;
        }
        if (count == 0) return MaskBytes;
        int[] nodes = ReachableNodes(bits, levels);
        int length = MaskBytes + (count * nodes.Length + 1) / 2;
        if (source.Length < length)
            throw new FrameFormatException(FrameError.Truncated, $"a context prior of {count} contexts needs {length} bytes, {source.Length} are left");
        if ((count * nodes.Length & 1) == 1 && source[length - 1] >> 4 != 0)
            throw new FrameFormatException(FrameError.CorruptPayload, "the context prior's pad nibble is not 0");
        cells = new AdaptiveBit[SpatialContextCoder.CellCount(bits)];
        Array.Fill(cells, AdaptiveBit.Initial);
        int nibble = 0;
        for (int c = 0; c < SpatialContextCoder.ContextCount; c++)
        {
            if ((source[c >> 3] >> (c & 7) & 1) == 0) continue;
            foreach (int node in nodes)
            {
                int code = source[MaskBytes + (nibble >> 1)] >> (4 * (nibble & 1)) & 0xF;
                cells[(c << bits) + node] = AdaptiveBit.Settled(CodeProbability[code]);
                nibble++;
            }
        }
        return length;
    }

    private static uint[] BuildCodeProbabilities()
    {
        var table = new uint[Codes];
        for (int k = 0; k < Codes; k++)
            table[k] = (uint)Math.Round(2048 / (1 + Math.Exp(-(k - (Codes - 1) / 2.0) * LogitStep)));
        return table;
    }
}
