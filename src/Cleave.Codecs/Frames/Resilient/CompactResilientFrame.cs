using System.Buffers;
using System.Buffers.Binary;
using Cleave.Codecs.Entropy;
using Cleave.Codecs.Quantization;

namespace Cleave.Codecs;

/// <summary>
/// Layout 2 of the resilient frame (docs/format.md, "Layout 2"; opt in with <c>resilient:...,layout=2/rans-ifc:...,ctx=2d</c>):
/// the groups share the coder state layout 1 sends once per group. The quantization grid is fitted once to the whole
/// tensor and sent in the (twice-sent, checked) header, as is a prior for the context model (<see cref="ContextPrior"/>)
/// from which every group's model starts; a group's payload is only its compact range-coded stream
/// (<see cref="BinaryRangeEncoder.FinishCompact"/>) and its check a CRC-16/X-25, which still allows the one-bit repair.
/// Why: on a 4.9 KB frame in 14 groups layout 1 costs +17 % over a plain frame, most of it each group's context model
/// relearning from flat and each group's own payload header, check and flush (docs/resilience.md).
/// </summary>
internal static class CompactResilientFrame
{
    /// <summary>Most bits per symbol layout 2 accepts: bounds the context model (49 · 2^bits cells) a decoder allocates.</summary>
    public const int MaxBits = 8;

    /// <summary>Context counts (most visited first) the encoder tries for the prior, besides none and all.</summary>
    private static readonly int[] PriorSizes = [4, 8, 12, 16, 20, 24, 32];

    /// <summary>The inner codec a layout-2 header's parameters describe: <c>rans-ifc</c> with <c>ctx=2d</c> and nothing
    /// that changes the symbols or layout per group (no gains, row references or rdo), at most <see cref="MaxBits"/> bits.</summary>
    public static RansIfcCodec InnerFromParameters(ReadOnlySpan<byte> parameters)
    {
        var inner = RansIfcCodec.FromParameters(parameters);
        if (Unsupported(inner) is { } problem)
            throw new FrameFormatException(FrameError.BadParameters, $"a layout-2 resilient frame's inner codec {inner.Spec}: {problem}");
        return inner;
    }

    /// <summary>Why <paramref name="inner"/> cannot be layout 2's inner codec, or null when it can.</summary>
    public static string? Unsupported(FeatureCodec inner) => inner switch
    {
        not RansIfcCodec => "layout 2 needs rans-ifc with ctx=2d",
        RansIfcCodec { SpatialContext: false } => "layout 2 needs ctx=2d (its groups share the context model's prior)",
        RansIfcCodec { Gains: not null } or RansIfcCodec { RowReferences: true } or RansIfcCodec { RdoThousandths: > 0 } =>
            "layout 2 does not take gains=, rows=ref or rdo=",
        RansIfcCodec { Bits: > MaxBits } => $"layout 2 takes at most bits={MaxBits}",
        _ => null,
    };

    public static void Write(ResilientCodec codec, ReadOnlySpan<float> values, TensorShape shape, IBufferWriter<byte> output)
    {
        var inner = (RansIfcCodec)codec.Inner;
        var whole = new GroupGrid(shape, 1, 1);
        var grid = shape.ElementCount == 0 ? whole : new GroupGrid(shape, Math.Min(codec.PlaneGroups, whole.Planes), Math.Min(codec.RowBlocks, whole.Height));
        var quantization = inner.FitParameters(values);
        int background = SymbolStatistics.ZeroSymbol(quantization, inner.Levels);
        var symbols = new ushort[grid.Count][];
        int largest = 0;
        for (int g = 0; g < grid.Count; g++) largest = Math.Max(largest, grid.ElementCount(g));
        float[] scratch = ArrayPool<float>.Shared.Rent(Math.Max(largest, 1));
        int cells = SpatialContextCoder.CellCount(inner.Bits);
        var zeros = new int[cells];
        var ones = new int[cells];
        try
        {
            for (int g = 0; g < grid.Count; g++)
            {
                int count = grid.ElementCount(g);
                grid.Gather(g, values, scratch);
                symbols[g] = new ushort[count];
                RansIfcQuantization.Quantize(scratch.AsSpan(0, count), quantization, inner.Levels, symbols[g]);
                SpatialContextCoder.CountDecisions(symbols[g], grid.GroupShape(g), inner.Bits, background, zeros, ones);
            }
        }
        finally { ArrayPool<float>.Shared.Return(scratch); }

        // The prior is worth its bytes (twice: both header copies) only where it saves more in the groups; the encoder
        // codes the groups under priors for the most visited contexts and keeps the smallest frame.
        var visited = Enumerable.Range(0, SpatialContextCoder.ContextCount)
            .Select(c => (Context: c, Visits: zeros[(c << inner.Bits) + 1] + ones[(c << inner.Bits) + 1]))
            .Where(v => v.Visits > 0).OrderByDescending(v => v.Visits).ThenBy(v => v.Context).Select(v => v.Context).ToArray();
        IEnumerable<int> sizes = codec.SendPrior ? PriorSizes.Where(n => n < visited.Length).Append(visited.Length).Prepend(0).Distinct() : [0];
        byte[] bestPrior = [];
        ArrayBufferWriter<byte>? best = null;
        int[] bestLengths = [];
        foreach (int size in sizes)
        {
            int[] contexts = [.. visited.Take(size).Order()];
            byte[] prior = ContextPrior.Write(contexts, zeros, ones, inner.Bits, inner.Levels);
            AdaptiveBit[] cellsStart = [];
            if (prior.Length > 0) ContextPrior.Read(prior, inner.Bits, inner.Levels, out cellsStart);
            var payloads = new ArrayBufferWriter<byte>(Math.Max(256, values.Length / 2));
            int[] lengths = new int[grid.Count];
            for (int g = 0; g < grid.Count; g++)
            {
                int before = payloads.WrittenCount;
                if (symbols[g].Length > 0)
                    SpatialContextCoder.Encode(symbols[g], grid.GroupShape(g), inner.Bits, background, payloads, cellsStart, compact: true);
                lengths[g] = payloads.WrittenCount - before;
            }
            if (best is null || payloads.WrittenCount + 2 * prior.Length < best.WrittenCount + 2 * bestPrior.Length)
                (best, bestPrior, bestLengths) = (payloads, prior, lengths);
        }

        ReadOnlySpan<byte> parameters = inner.ParameterBytes;
        byte[] means = PlaneMeans.Write(values, grid, quantization, inner.Levels);
        Span<byte> header = new byte[CompactResilientHeader.MaxWriteLength(shape.Rank, parameters.Length, bestPrior.Length, means.Length, grid.Count)];
        int headerLength = CompactResilientHeader.Write(shape, codec.Conceal, grid.PlaneGroups, grid.RowBlocks, parameters, quantization, bestPrior, means, bestLengths, header);
        ResilientFrame.Assemble(header[..headerLength], best!.WrittenSpan, bestLengths, checkSize: 2, output);
    }

    /// <summary>What decoding one group rents beyond the float buffer: its symbols and the context model's cells.</summary>
    public static long ScratchBytes(ResilientHeader header, int largestGroup)
    {
        int bits = RansIfcCodec.FromParameters(header.Parameters).Bits;
        return ScratchSize.Pooled(largestGroup, sizeof(ushort)) + SpatialContextCoder.ModelBytes(bits);
    }

    /// <summary>A decoder for one layout-2 group: its symbols under the shared prior, dequantized with the shared grid.</summary>
    public static ResilientFrame.GroupDecoder GroupDecoder(ResilientHeader header)
    {
        var inner = InnerFromParameters(header.Parameters);
        QuantizationParameters quantization = header.Grid;
        int background = SymbolStatistics.ZeroSymbol(quantization, inner.Levels);
        float[] levelValues = RansIfcQuantization.LevelValues(quantization, inner.Levels);
        AdaptiveBit[] prior = header.Prior;
        return (ReadOnlySpan<byte> payload, TensorShape shape, Span<float> destination, long repairCopyBytes) =>
        {
            if (destination.IsEmpty) return payload.IsEmpty;
            var symbols = ArrayPool<ushort>.Shared.Rent(destination.Length);
            try
            {
                var span = symbols.AsSpan(0, destination.Length);
                SpatialContextCoder.DecodeCompact(payload, shape, inner.Bits, inner.Levels, background, span, prior);
                for (int i = 0; i < span.Length; i++) destination[i] = levelValues[span[i]];
                return true;
            }
            finally { ArrayPool<ushort>.Shared.Return(symbols); }
        };
    }
}
