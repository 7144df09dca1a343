using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Cleave.Codecs.Entropy;
using Cleave.Codecs.Quantization;

namespace Cleave.Codecs;

/// <summary>
/// <c>rans-ifc:bits=B[,levels=L][,ncols=N|auto][,clip=K|range=R][,rows=ref][,ctx=2d]</c>, after "rANS-based lightweight intermediate feature
/// compression" (Sung et al.; the bitstream is ours, docs/codecs.md): asymmetric uniform quantization to L levels
/// (default 2^B; B &lt;= 12), optionally over the range clipped to mean ± K std or over the fixed range [−R, R], then either a sparse layout (CSR over
/// the tensor reshaped to N columns, rANS over row counts, column gaps and values) or, when a cost model says the
/// sparse streams cost more, one dense rANS block. N and the layout are chosen by the cost model unless <c>ncols=N</c>
/// fixes the CSR layout with N columns. <c>rows=ref</c> adds a third layout, row references (each row along the last axis
/// sent directly or as its difference from an earlier row), used when it is smaller than the other two; <c>ctx=2d</c> adds
/// another, every symbol range-coded under its left and upper neighbours (<see cref="SpatialContextCoder"/>), likewise
/// kept only when smaller.
/// Max error is scale/2 for values inside the (clipped) range; values outside saturate to the range's ends.
/// </summary>
public sealed class RansIfcCodec : FeatureCodec
{
    public const int MaxBits = 12;
    public const int DefaultBits = 8;

    /// <summary>Largest clip factor K: stored in hundredths in an unsigned 16-bit field.</summary>
    public const double MaxClip = ushort.MaxValue / 100.0;

    private readonly byte[] _parameters;

    /// <param name="bits">B, 1..12: symbols have B bits.</param>
    /// <param name="levels">L, 2..2^B quantization levels; 0 means 2^B.</param>
    /// <param name="columns">N, 1..4095, or 0 to let the cost model choose.</param>
    /// <param name="clip">K &gt; 0 clips the range to mean ± K std (kept to hundredths); 0 uses the full range.</param>
    /// <param name="rowReferences">Also consider the row-reference layout (<c>rows=ref</c>; an 8th parameter byte, bit 0).</param>
    /// <param name="spatialContext">Also consider the spatial-context layout (<c>ctx=2d</c>; the 8th parameter byte, bit 1).</param>
    /// <param name="gains">Per-channel gains applied before quantization (<c>gains=HEX</c>; the 8th parameter byte, bit 2, then the list).</param>
    /// <param name="rdo">λ &gt; 0 (with <c>ctx=2d</c>): rate-distortion optimized choice of each symbol, λ squared steps per bit, kept to thousandths.</param>
    /// <param name="range">R &gt; 0 quantizes over the fixed range [−R, R] whatever the values (kept to hundredths; not with
    /// <paramref name="clip"/>): with L = 2R + 1 levels the step is exactly 1, the grid a learned code is trained for.</param>
    public RansIfcCodec(int bits = DefaultBits, int levels = 0, int columns = 0, double clip = 0, bool rowReferences = false, bool spatialContext = false,
        ChannelGains? gains = null, double rdo = 0, double range = 0)
    {
        if (bits is < 1 or > MaxBits) throw new ArgumentOutOfRangeException(nameof(bits), bits, $"bits must be 1..{MaxBits}");
        if (levels == 0) levels = 1 << bits;
        if (levels < 2 || levels > 1 << bits)
            throw new ArgumentOutOfRangeException(nameof(levels), levels, $"levels must be 2..{1 << bits} for bits={bits}");
        if (columns is < 0 or > CsrStreams.MaxColumns)
            throw new ArgumentOutOfRangeException(nameof(columns), columns, $"ncols must be 1..{CsrStreams.MaxColumns} (or 0 = auto)");
        if (!double.IsFinite(clip) || clip < 0 || clip > MaxClip)
            throw new ArgumentOutOfRangeException(nameof(clip), clip, $"clip must be 0 (off) or 0.01..{MaxClip}");
        int clipHundredths = (int)Math.Round(clip * 100, MidpointRounding.AwayFromZero);
        if (clip > 0 && clipHundredths == 0) throw new ArgumentOutOfRangeException(nameof(clip), clip, "clip below 0.01 rounds to off");
        if (!double.IsFinite(rdo) || rdo < 0 || rdo > MaxRdo)
            throw new ArgumentOutOfRangeException(nameof(rdo), rdo, $"rdo must be 0 (off) or 0.001..{MaxRdo}");
        int rdoThousandths = (int)Math.Round(rdo * 1000, MidpointRounding.AwayFromZero);
        if (rdo > 0 && rdoThousandths == 0) throw new ArgumentOutOfRangeException(nameof(rdo), rdo, "rdo below 0.001 rounds to off");
        if (rdoThousandths > 0 && !spatialContext) throw new ArgumentException("rdo= chooses symbols by their context-coded cost, so it needs ctx=2d", nameof(rdo));
        if (!double.IsFinite(range) || range < 0 || range > MaxRange)
            throw new ArgumentOutOfRangeException(nameof(range), range, $"range must be 0 (off) or 0.01..{MaxRange}");
        int rangeHundredths = (int)Math.Round(range * 100, MidpointRounding.AwayFromZero);
        if (range > 0 && rangeHundredths == 0) throw new ArgumentOutOfRangeException(nameof(range), range, "range below 0.01 rounds to off");
        if (rangeHundredths > 0 && clipHundredths > 0) throw new ArgumentException("range= fixes the quantization range, so it cannot be combined with clip=", nameof(range));
        Bits = bits;
        Levels = levels;
        Columns = columns;
        ClipHundredths = clipHundredths;
        RowReferences = rowReferences;
        SpatialContext = spatialContext;
        Gains = gains;
        RdoThousandths = rdoThousandths;
        RangeHundredths = rangeHundredths;
        // Frames without any option keep the original 7 parameter bytes (and so their exact bytes).
        bool flagged = rowReferences || spatialContext || gains is not null || rdoThousandths > 0 || rangeHundredths > 0;
        int length = !flagged ? 7 : 8 + (rdoThousandths > 0 ? 2 : 0) + (rangeHundredths > 0 ? 2 : 0) + (gains is null ? 0 : 2 + gains.Channels);
        _parameters = new byte[length];
        if (flagged)
            _parameters[7] = (byte)((rowReferences ? RowReferencesFlag : 0) | (spatialContext ? SpatialContextFlag : 0)
                | (gains is not null ? GainsFlag : 0) | (rdoThousandths > 0 ? RdoFlag : 0) | (rangeHundredths > 0 ? RangeFlag : 0));
        int at = 8;
        if (rdoThousandths > 0)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(_parameters.AsSpan(at), (ushort)rdoThousandths);
            at += 2;
        }
        if (rangeHundredths > 0)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(_parameters.AsSpan(at), (ushort)rangeHundredths);
            at += 2;
        }
        if (gains is not null)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(_parameters.AsSpan(at), (ushort)gains.Channels);
            gains.Codes.CopyTo(_parameters.AsSpan(at + 2));
        }
        _parameters[0] = (byte)bits;
        BinaryPrimitives.WriteUInt16LittleEndian(_parameters.AsSpan(1), (ushort)levels);
        BinaryPrimitives.WriteUInt16LittleEndian(_parameters.AsSpan(3), (ushort)columns);
        BinaryPrimitives.WriteUInt16LittleEndian(_parameters.AsSpan(5), (ushort)clipHundredths);
    }

    public int Bits { get; }
    public int Levels { get; }

    /// <summary>The fixed reshape width N, or 0 when the cost model chooses it per tensor.</summary>
    public int Columns { get; }

    /// <summary>The clip factor K in hundredths (0 = no clipping).</summary>
    public int ClipHundredths { get; }

    public double Clip => ClipHundredths / 100.0;

    /// <summary>True with <c>rows=ref</c>: the encoder also tries the row-reference layout and keeps the smallest.</summary>
    public bool RowReferences { get; }

    /// <summary>True with <c>ctx=2d</c>: the encoder also tries the spatial-context layout and keeps the smallest.</summary>
    public bool SpatialContext { get; }

    /// <summary>With <c>gains=HEX</c>: channel c is scaled by its gain before quantization and back after decoding.</summary>
    public ChannelGains? Gains { get; }

    private const byte RowReferencesFlag = 1;
    private const byte SpatialContextFlag = 2;
    private const byte GainsFlag = 4;
    private const byte RdoFlag = 8;
    private const byte RangeFlag = 16;
    private const byte AllFlags = RowReferencesFlag | SpatialContextFlag | GainsFlag | RdoFlag | RangeFlag;

    /// <summary>Largest fixed range R: stored in hundredths in an unsigned 16-bit field.</summary>
    public const double MaxRange = ushort.MaxValue / 100.0;

    /// <summary>R of <c>range=R</c> in hundredths (0 = the values' own range, or the clipped one).</summary>
    public int RangeHundredths { get; }

    /// <summary>With <c>range=R</c>: the values are quantized over [−R, R] (values beyond saturate); 0 = off.</summary>
    public double Range => RangeHundredths / 100.0;

    /// <summary>Largest rdo λ: stored in thousandths in an unsigned 16-bit field.</summary>
    public const double MaxRdo = ushort.MaxValue / 1000.0;

    /// <summary>λ of <c>rdo=λ</c> in thousandths of a squared step per bit (0 = plain rounding).</summary>
    public int RdoThousandths { get; }

    public double Rdo => RdoThousandths / 1000.0;

    public override CodecId Id => CodecId.RansIfc;
    public override ReadOnlySpan<byte> ParameterBytes => _parameters;
    public override bool IsLossless => false;

    public override string Spec
    {
        get
        {
            string spec = $"rans-ifc:bits={Bits}";
            if (Levels != 1 << Bits) spec += $",levels={Levels}";
            if (Columns != 0) spec += $",ncols={Columns}";
            if (ClipHundredths != 0) spec += ",clip=" + Clip.ToString("0.##", CultureInfo.InvariantCulture);
            if (RangeHundredths != 0) spec += ",range=" + Range.ToString("0.##", CultureInfo.InvariantCulture);
            if (RowReferences) spec += ",rows=ref";
            if (SpatialContext) spec += ",ctx=2d";
            if (RdoThousandths != 0) spec += ",rdo=" + Rdo.ToString("0.###", CultureInfo.InvariantCulture);
            if (Gains is not null) spec += ",gains=" + Gains;
            return spec;
        }
    }

    internal static RansIfcCodec FromSpec(CodecSpec spec)
    {
        int levels = spec.GetInt("levels", 0, 2, 1 << MaxBits);
        int minimumBits = levels == 0 ? 1 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)(levels - 1));
        int bits = spec.GetInt("bits", levels == 0 ? DefaultBits : minimumBits, 1, MaxBits);
        if (levels > 1 << bits) throw new ArgumentException($"codec 'rans-ifc': levels={levels} needs bits >= {minimumBits}, got bits={bits}");
        string ncols = spec.GetString("ncols") ?? "auto";
        int columns = 0;
        if (!ncols.Equals("auto", StringComparison.OrdinalIgnoreCase)
            && (!int.TryParse(ncols, NumberStyles.Integer, CultureInfo.InvariantCulture, out columns) || columns is < 1 or > CsrStreams.MaxColumns))
            throw new ArgumentException($"codec 'rans-ifc': ncols={ncols} is not auto or an integer in 1..{CsrStreams.MaxColumns}");
        double clip = 0;
        string? clipText = spec.GetString("clip");
        if (clipText is not null
            && (!double.TryParse(clipText, NumberStyles.Float, CultureInfo.InvariantCulture, out clip) || !(clip >= 0.01 && clip <= MaxClip)))
            throw new ArgumentException($"codec 'rans-ifc': clip={clipText} is not a number in 0.01..{MaxClip}");
        if (columns != 0 && spec.GetString("rows") is not null)
            throw new ArgumentException("codec 'rans-ifc': rows= needs ncols=auto (a fixed ncols forces the CSR layout)");
        if (columns != 0 && spec.GetString("ctx") is not null)
            throw new ArgumentException("codec 'rans-ifc': ctx= needs ncols=auto (a fixed ncols forces the CSR layout)");
        bool rows = spec.GetChoice("rows", "plain", "plain", "ref") == "ref";
        bool context = spec.GetChoice("ctx", "none", "none", "2d") == "2d";
        string? gains = spec.GetString("gains");
        double rdo = 0;
        string? rdoText = spec.GetString("rdo");
        if (rdoText is not null
            && (!double.TryParse(rdoText, NumberStyles.Float, CultureInfo.InvariantCulture, out rdo) || !(rdo >= 0.001 && rdo <= MaxRdo)))
            throw new ArgumentException($"codec 'rans-ifc': rdo={rdoText} is not a number in 0.001..{MaxRdo}");
        if (rdoText is not null && !context) throw new ArgumentException("codec 'rans-ifc': rdo= needs ctx=2d (symbols are chosen by their context-coded cost)");
        double range = 0;
        string? rangeText = spec.GetString("range");
        if (rangeText is not null
            && (!double.TryParse(rangeText, NumberStyles.Float, CultureInfo.InvariantCulture, out range) || !(range >= 0.01 && range <= MaxRange)))
            throw new ArgumentException($"codec 'rans-ifc': range={rangeText} is not a number in 0.01..{MaxRange}");
        if (rangeText is not null && clipText is not null) throw new ArgumentException("codec 'rans-ifc': range= and clip= both set the quantization range; give one");
        return new RansIfcCodec(bits, levels, columns, clip, rows, context, gains is null ? null : ChannelGains.Parse(gains), rdo, range);
    }

    internal static RansIfcCodec FromParameters(ReadOnlySpan<byte> p)
    {
        byte flags = p.Length >= 8 ? p[7] : (byte)0;
        bool hasRdo = (flags & RdoFlag) != 0, hasGains = (flags & GainsFlag) != 0, hasRange = (flags & RangeFlag) != 0;
        int rangeAt = 8 + (hasRdo ? 2 : 0);
        int gainsAt = rangeAt + (hasRange ? 2 : 0);
        int rdo = hasRdo && p.Length >= 10 ? BinaryPrimitives.ReadUInt16LittleEndian(p[8..]) : 0;
        int range = hasRange && p.Length >= rangeAt + 2 ? BinaryPrimitives.ReadUInt16LittleEndian(p[rangeAt..]) : 0;
        int channels = hasGains && p.Length >= gainsAt + 2 ? BinaryPrimitives.ReadUInt16LittleEndian(p[gainsAt..]) : 0;
        int expected = gainsAt + (hasGains ? 2 + channels : 0);
        bool shapeOk = p.Length == 7
            || (p.Length == expected && flags is >= 1 and <= AllFlags && (!hasGains || channels is >= 1 and <= ChannelGains.MaxChannels)
                && (!hasRdo || (rdo > 0 && (flags & SpatialContextFlag) != 0)) && (!hasRange || range > 0));
        if (!shapeOk)
            throw new FrameFormatException(FrameError.BadParameters,
                $"rans-ifc parameters are 7 bytes, or 8 + options (flags 1..31; rdo needs ctx=2d and λ > 0; range > 0; 1..{ChannelGains.MaxChannels} gains), frame has {Convert.ToHexString(p[..Math.Min(p.Length, 16)])}");
        int bits = p[0];
        int levels = BinaryPrimitives.ReadUInt16LittleEndian(p[1..]);
        int columns = BinaryPrimitives.ReadUInt16LittleEndian(p[3..]);
        int clip = BinaryPrimitives.ReadUInt16LittleEndian(p[5..]);
        bool layoutOptions = (flags & (RowReferencesFlag | SpatialContextFlag)) != 0;
        if (bits is < 1 or > MaxBits || levels < 2 || levels > 1 << bits || columns > CsrStreams.MaxColumns || (layoutOptions && columns != 0)
            || (range > 0 && clip > 0))
            throw new FrameFormatException(FrameError.BadParameters, $"invalid rans-ifc parameters {Convert.ToHexString(p[..Math.Min(p.Length, 16)])}");
        return new RansIfcCodec(bits, levels, columns, clip / 100.0, (flags & RowReferencesFlag) != 0, (flags & SpatialContextFlag) != 0,
            hasGains ? new ChannelGains(p.Slice(gainsAt + 2, channels)) : null, rdo / 1000.0, range / 100.0);
    }

    /// <summary>The quantization grid this codec uses for these values.</summary>
    public QuantizationParameters FitParameters(ReadOnlySpan<float> values) =>
        RansIfcQuantization.Fit(values, Bits, Levels, Clip, Range);

    public override double? EntropyBoundBytes(ReadOnlySpan<float> values, TensorShape shape)
    {
        if (Gains is not null)
        {
            var scaled = ArrayPool<float>.Shared.Rent(Math.Max(1, values.Length));
            try
            {
                Gains.Apply(values, GainPlane(Gains, shape), scaled.AsSpan(0, values.Length));
                return EntropyBoundOf(scaled.AsSpan(0, values.Length));
            }
            finally { ArrayPool<float>.Shared.Return(scaled); }
        }
        return EntropyBoundOf(values);
    }

    private double EntropyBoundOf(ReadOnlySpan<float> values)
    {
        var symbols = ArrayPool<ushort>.Shared.Rent(Math.Max(1, values.Length));
        try
        {
            var span = symbols.AsSpan(0, values.Length);
            RansIfcQuantization.Quantize(values, FitParameters(values), Levels, span);
            return EntropyStatistics.Order0Bytes(span);
        }
        finally { ArrayPool<ushort>.Shared.Return(symbols); }
    }

    /// <summary>The layout and width the encoder picks from the predicted sizes (smallest predicted total wins).</summary>
    /// <remarks>A fixed <c>ncols=N</c> always gives the CSR layout with N columns: the caller asked for it.</remarks>
    internal (RansIfcLayout Layout, int Columns) Choose(SymbolStatistics stats, TensorShape shape)
    {
        if (Columns != 0) return (RansIfcLayout.Csr, Columns);
        using var model = new ColumnWidthCostModel(stats, Levels);
        var best = model.PredictDense();
        foreach (int n in ColumnWidthCostModel.Candidates(shape))
        {
            var csr = model.PredictCsr(n);
            if (csr.Total < best.Total) best = csr;
        }
        return best.Columns == 0 ? (RansIfcLayout.Dense, 0) : (RansIfcLayout.Csr, best.Columns);
    }

    protected internal override void EncodePayload(ReadOnlySpan<float> values, TensorShape shape, IBufferWriter<byte> payload)
    {
        if (Gains is null)
        {
            EncodeScaled(values, shape, payload);
            return;
        }
        int plane = GainPlane(Gains, shape);
        var scaled = ArrayPool<float>.Shared.Rent(Math.Max(1, values.Length));
        try
        {
            Gains.Apply(values, plane, scaled.AsSpan(0, values.Length));
            EncodeScaled(scaled.AsSpan(0, values.Length), shape, payload);
        }
        finally { ArrayPool<float>.Shared.Return(scaled); }
    }

    private static int GainPlane(ChannelGains gains, TensorShape shape) =>
        gains.TryPlane(shape, out int plane, out string? problem) ? plane : throw new ArgumentException($"codec 'rans-ifc': {problem}", nameof(shape));

    private void EncodeScaled(ReadOnlySpan<float> values, TensorShape shape, IBufferWriter<byte> payload)
    {
        var grid = FitParameters(values);
        if (values.Length == 0)
        {
            WriteHeader(payload, RansIfcLayout.Dense, grid);
            return;
        }
        var symbols = ArrayPool<ushort>.Shared.Rent(values.Length);
        try
        {
            var span = symbols.AsSpan(0, values.Length);
            RansIfcQuantization.Quantize(values, grid, Levels, span);
            if (RdoThousandths > 0) WriteSmallestChoosing(values, span, shape, grid, payload);
            else if (RowReferences || SpatialContext) WriteSmallest(span, shape, grid, payload);
            else WriteDenseOrCsr(span, shape, grid, payload);
        }
        finally { ArrayPool<ushort>.Shared.Return(symbols); }
    }

    private void WriteDenseOrCsr(ReadOnlySpan<ushort> span, TensorShape shape, QuantizationParameters grid, IBufferWriter<byte> payload)
    {
        var stats = SymbolStatistics.Gather(span, Levels, SymbolStatistics.ZeroSymbol(grid, Levels));
        var (layout, columns) = Choose(stats, shape);
        WriteHeader(payload, layout, grid);
        if (layout == RansIfcLayout.Csr) WriteCsr(span, stats, columns, payload);
        else if (Levels > 256) RansCoder.Encode(span, Levels, payload);
        else WriteDenseBytes(span, payload);
    }

    /// <summary>
    /// <c>rows=ref</c> / <c>ctx=2d</c>: the cost model's choice and each optional layout are coded for real and the
    /// smallest is sent (no model predicts how much rows repeat or how much the neighbours tell), so an option never
    /// costs more than a parameter byte over the plain codec.
    /// </summary>
    private void WriteSmallest(ReadOnlySpan<ushort> span, TensorShape shape, QuantizationParameters grid, IBufferWriter<byte> payload)
    {
        var best = new ArrayBufferWriter<byte>(span.Length + 64);
        WriteDenseOrCsr(span, shape, grid, best);
        if (RowReferences) best = SmallerWithRows(span, shape, grid, best);
        if (SpatialContext)
        {
            var context = new ArrayBufferWriter<byte>(span.Length / 4 + 64);
            WriteHeader(context, RansIfcLayout.Context, grid);
            SpatialContextCoder.Encode(span, shape, Bits, SymbolStatistics.ZeroSymbol(grid, Levels), context);
            if (context.WrittenCount < best.WrittenCount) best = context;
        }
        payload.Write(best.WrittenSpan);
    }

    /// <summary>
    /// <c>rdo=λ</c>: the context layout chooses the symbols (<see cref="SpatialContextCoder.EncodeChoosing"/>), then the
    /// other layouts code those same symbols and the smallest is sent, so every layout decodes to the same tensor.
    /// </summary>
    private void WriteSmallestChoosing(ReadOnlySpan<float> values, Span<ushort> span, TensorShape shape, QuantizationParameters grid, IBufferWriter<byte> payload)
    {
        var context = new ArrayBufferWriter<byte>(span.Length / 4 + 64);
        WriteHeader(context, RansIfcLayout.Context, grid);
        SpatialContextCoder.EncodeChoosing(values, grid.Scale, grid.ZeroPoint, Levels, Rdo, span, shape, Bits, SymbolStatistics.ZeroSymbol(grid, Levels), context);
        var best = new ArrayBufferWriter<byte>(span.Length + 64);
        WriteDenseOrCsr(span, shape, grid, best);
        if (context.WrittenCount < best.WrittenCount) best = context;
        if (RowReferences) best = SmallerWithRows(span, shape, grid, best);
        payload.Write(best.WrittenSpan);
    }

    private ArrayBufferWriter<byte> SmallerWithRows(ReadOnlySpan<ushort> span, TensorShape shape, QuantizationParameters grid, ArrayBufferWriter<byte> best)
    {
        var rows = new ArrayBufferWriter<byte>(span.Length + 64);
        WriteHeader(rows, RansIfcLayout.Rows, grid);
        Cleave.Codecs.RowReferences.Encode(span, Cleave.Codecs.RowReferences.RowLength(shape), Levels, rows);
        return rows.WrittenCount < best.WrittenCount ? rows : best;
    }

    /// <summary>
    /// The same block from byte symbols: the coder's byte histogram splits runs of one value over four counters, which
    /// matters on ReLU outputs (the block's bytes do not depend on the symbol width).
    /// </summary>
    private void WriteDenseBytes(ReadOnlySpan<ushort> symbols, IBufferWriter<byte> payload)
    {
        var bytes = ArrayPool<byte>.Shared.Rent(symbols.Length);
        try
        {
            var narrow = bytes.AsSpan(0, symbols.Length);
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                ref ushort source = ref MemoryMarshal.GetReference(symbols);
                for (; i <= symbols.Length - 32; i += 32)
                    Vector256.Narrow(Vector256.LoadUnsafe(ref source, (nuint)i), Vector256.LoadUnsafe(ref source, (nuint)(i + 16)))
                        .StoreUnsafe(ref MemoryMarshal.GetReference(narrow), (nuint)i);
            }
            for (; i < symbols.Length; i++) narrow[i] = (byte)symbols[i];
            RansCoder.Encode(narrow, Levels, payload);
        }
        finally { ArrayPool<byte>.Shared.Return(bytes); }
    }

    private static void WriteHeader(IBufferWriter<byte> payload, RansIfcLayout layout, QuantizationParameters grid)
    {
        Span<byte> head = payload.GetSpan(ColumnWidthCostModel.CommonHeaderBytes);
        head[0] = (byte)layout;
        BinaryPrimitives.WriteSingleLittleEndian(head[1..], grid.Scale);
        BinaryPrimitives.WriteInt32LittleEndian(head[5..], grid.ZeroPoint);
        payload.Advance(ColumnWidthCostModel.CommonHeaderBytes);
    }

    private void WriteCsr(ReadOnlySpan<ushort> symbols, SymbolStatistics stats, int columns, IBufferWriter<byte> payload)
    {
        Span<byte> head = payload.GetSpan(ColumnWidthCostModel.CsrHeaderBytes);
        BinaryPrimitives.WriteUInt16LittleEndian(head, (ushort)columns);
        BinaryPrimitives.WriteUInt16LittleEndian(head[2..], (ushort)stats.Background);
        BinaryPrimitives.WriteUInt32LittleEndian(head[4..], (uint)stats.Foreground);
        payload.Advance(ColumnWidthCostModel.CsrHeaderBytes);
        using var streams = CsrStreams.Build(symbols, stats.Background, stats.Foreground, columns);
        WriteStreams(streams, payload);
    }

    /// <summary>The three rANS blocks; the gap and value blocks are left out when there is no foreground symbol.</summary>
    private void WriteStreams(CsrStreams streams, IBufferWriter<byte> payload)
    {
        RansCoder.Encode(streams.RowCounts, streams.Columns + 1, payload);
        if (streams.Foreground == 0) return;
        RansCoder.Encode(streams.ColumnGaps, streams.Columns, payload);
        RansCoder.Encode(streams.Values, Levels, payload);
    }

    protected internal override void DecodePayload(ReadOnlySpan<byte> payload, TensorShape shape, Span<float> destination)
    {
        int plane = 0;
        if (Gains is not null && !Gains.TryPlane(shape, out plane, out string? problem))
            throw new FrameFormatException(FrameError.BadParameters, $"rans-ifc {problem}");
        DecodeScaled(payload, shape, destination);
        Gains?.Invert(destination, plane);
    }

    private void DecodeScaled(ReadOnlySpan<byte> payload, TensorShape shape, Span<float> destination)
    {
        var reader = new PayloadReader(payload, "rans-ifc payload");
        byte layout = reader.ReadByte();
        var grid = new QuantizationParameters(reader.ReadSingle(), reader.ReadInt32(), Bits);
        if (!grid.IsValid)
            throw new FrameFormatException(FrameError.CorruptPayload, $"rans-ifc grid has invalid scale {grid.Scale} or zero point {grid.ZeroPoint}");
        int n = destination.Length;
        switch ((RansIfcLayout)layout)
        {
            case RansIfcLayout.Dense:
                if (n == 0) { reader.ExpectEnd(); return; }
                if (Levels <= 256) DecodeDenseBytes(ref reader, grid, Levels, destination);
                else DecodeDense(ref reader, RansIfcQuantization.LevelValues(grid, Levels), destination);
                break;
            case RansIfcLayout.Csr when n > 0:
                DecodeCsr(ref reader, RansIfcQuantization.LevelValues(grid, Levels), destination);
                break;
            case RansIfcLayout.Rows when n > 0 && RowReferences:
                DecodeRows(ref reader, RansIfcQuantization.LevelValues(grid, Levels), shape, destination);
                break;
            case RansIfcLayout.Context when n > 0 && SpatialContext:
                DecodeContext(reader.Take(reader.Remaining), grid, shape, destination);
                break;
            default:
                throw new FrameFormatException(FrameError.CorruptPayload, $"rans-ifc layout {layout} is unknown or invalid for {n} elements");
        }
        reader.ExpectEnd();
    }

    private static void DecodeDense(ref PayloadReader reader, float[] levelValues, Span<float> destination)
    {
        var symbols = ArrayPool<ushort>.Shared.Rent(destination.Length);
        try
        {
            var span = symbols.AsSpan(0, destination.Length);
            reader.Take(RansCoder.Decode(reader.Rest, span));
            for (int i = 0; i < span.Length; i++)
            {
                ushort s = span[i];
                if (s >= levelValues.Length)
                    throw new FrameFormatException(FrameError.CorruptPayload, $"rans-ifc symbol {s} at {i} is beyond {levelValues.Length} levels");
                destination[i] = levelValues[s];
            }
        }
        finally { ArrayPool<ushort>.Shared.Return(symbols); }
    }

    /// <summary>Byte symbols and the vectorized dequantizer, which computes exactly what the level table holds.</summary>
    private static void DecodeDenseBytes(ref PayloadReader reader, QuantizationParameters grid, int levels, Span<float> destination)
    {
        var symbols = ArrayPool<byte>.Shared.Rent(destination.Length);
        try
        {
            var span = symbols.AsSpan(0, destination.Length);
            reader.Take(RansCoder.Decode(reader.Rest, span));
            int bad = levels < 256 ? span.IndexOfAnyInRange((byte)levels, byte.MaxValue) : -1;
            if (bad >= 0)
                throw new FrameFormatException(FrameError.CorruptPayload, $"rans-ifc symbol {span[bad]} at {bad} is beyond {levels} levels");
            UniformQuantizer.Dequantize(span, grid, destination);
        }
        finally { ArrayPool<byte>.Shared.Return(symbols); }
    }

    private static void DecodeRows(ref PayloadReader reader, float[] levelValues, TensorShape shape, Span<float> destination)
    {
        var symbols = ArrayPool<ushort>.Shared.Rent(destination.Length);
        try
        {
            var span = symbols.AsSpan(0, destination.Length);
            reader.Take(Cleave.Codecs.RowReferences.Decode(reader.Rest, Cleave.Codecs.RowReferences.RowLength(shape), levelValues.Length, span));
            for (int i = 0; i < span.Length; i++) destination[i] = levelValues[span[i]];
        }
        finally { ArrayPool<ushort>.Shared.Return(symbols); }
    }

    private void DecodeContext(ReadOnlySpan<byte> stream, QuantizationParameters grid, TensorShape shape, Span<float> destination)
    {
        var symbols = ArrayPool<ushort>.Shared.Rent(destination.Length);
        try
        {
            var span = symbols.AsSpan(0, destination.Length);
            SpatialContextCoder.Decode(stream, shape, Bits, Levels, SymbolStatistics.ZeroSymbol(grid, Levels), span);
            var levelValues = RansIfcQuantization.LevelValues(grid, Levels);
            for (int i = 0; i < span.Length; i++) destination[i] = levelValues[span[i]];
        }
        finally { ArrayPool<ushort>.Shared.Return(symbols); }
    }

    private static void DecodeCsr(ref PayloadReader reader, float[] levelValues, Span<float> destination)
    {
        int columns = BinaryPrimitives.ReadUInt16LittleEndian(reader.Take(2));
        int background = BinaryPrimitives.ReadUInt16LittleEndian(reader.Take(2));
        uint foreground = reader.ReadUInt32();
        if (columns is < 1 or > CsrStreams.MaxColumns || background >= levelValues.Length || foreground > (uint)destination.Length)
            throw new FrameFormatException(FrameError.CorruptPayload,
                $"rans-ifc CSR header is invalid: {columns} columns, background {background}, {foreground} values for {destination.Length} elements");
        using var streams = CsrStreams.ForDecoding(columns, CsrStreams.RowsFor(destination.Length, columns), (int)foreground);
        reader.Take(RansCoder.Decode(reader.Rest, streams.RowCounts));
        if (foreground > 0)
        {
            reader.Take(RansCoder.Decode(reader.Rest, streams.ColumnGaps));
            reader.Take(RansCoder.Decode(reader.Rest, streams.Values));
        }
        streams.Scatter(levelValues, background, destination);
    }

    /// <summary>The layout byte, scale and zero point that open every payload.</summary>
    private const int PayloadHeaderBytes = 9;

    /// <summary>
    /// The context layout cannot code a symbol in fewer than <see cref="SpatialContextCoder.MinimumStreamBytes"/> allows
    /// (its adaptive probabilities never pass 2017/2048); the dense, CSR and row layouts can describe a constant tensor
    /// with single-symbol rANS blocks, so they have no floor beyond their header.
    /// </summary>
    protected internal override long MinimumPayloadBytes(ReadOnlySpan<byte> payload, TensorShape shape)
    {
        long n = shape.ElementCount;
        if (payload.IsEmpty || n == 0 || (RansIfcLayout)payload[0] != RansIfcLayout.Context) return 0;
        return PayloadHeaderBytes + SpatialContextCoder.MinimumStreamBytes(n, Bits);
    }

    /// <summary>The symbol buffers each layout's decoder rents (a CSR payload's own header says how many foreground symbols).</summary>
    protected internal override long DecodeScratchBytes(ReadOnlySpan<byte> payload, TensorShape shape)
    {
        long n = shape.ElementCount;
        if (payload.IsEmpty || n == 0) return 0;
        switch ((RansIfcLayout)payload[0])
        {
            case RansIfcLayout.Dense:
                return ScratchSize.Pooled(n, Levels <= 256 ? 1 : 2);
            case RansIfcLayout.Csr:
                if (payload.Length < PayloadHeaderBytes + ColumnWidthCostModel.CsrHeaderBytes) return 0; // refused before renting
                int columns = Math.Max(1, (int)BinaryPrimitives.ReadUInt16LittleEndian(payload[PayloadHeaderBytes..]));
                long foreground = Math.Min(n, BinaryPrimitives.ReadUInt32LittleEndian(payload[(PayloadHeaderBytes + 4)..]));
                return ScratchSize.Pooled(CsrStreams.RowsFor(n, columns), 2) + 2 * ScratchSize.Pooled(foreground, 2);
            case RansIfcLayout.Rows:
                return 2 * ScratchSize.Pooled(n, 2) + ScratchSize.Pooled(n / Math.Max(1, Cleave.Codecs.RowReferences.RowLength(shape)), 2);
            case RansIfcLayout.Context:
                return ScratchSize.Pooled(n, 2) + SpatialContextCoder.ModelBytes(Bits);
            default:
                return 0;
        }
    }
}
