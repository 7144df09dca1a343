using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Cleave.Codecs.Entropy;
using Cleave.Codecs.Quantization;

namespace Cleave.Codecs;

/// <summary>How the quantized symbols are stored after quantization.</summary>
public enum SymbolCoding : byte
{
    /// <summary>Densely bit-packed, B bits per symbol.</summary>
    None = 0,
    /// <summary>rANS with a compact per-frame frequency table (bits &lt;= 12); see docs/entropy-coding.md.</summary>
    Rans = 1,
    /// <summary>zstd over one byte (B &lt;= 8) or two little-endian bytes per symbol.</summary>
    Zstd = 2,
    /// <summary>deflate over one byte (B &lt;= 8) or two little-endian bytes per symbol.</summary>
    Deflate = 3,
}

/// <summary>
/// <c>quant:bits=B[,per=tensor|channel][,axis=A][,entropy=none|rans|zstd|deflate][,level=L][,k=K]</c>: asymmetric uniform
/// quantization, per tensor or per channel (scale and zero point for each channel stored in the payload), followed by
/// a symbol coding stage. Max error per element is Scale/2 for finite values (see <see cref="UniformQuantizer"/> for NaN/Inf).
/// </summary>
public sealed class QuantCodec : FeatureCodec
{
    private readonly byte[] _parameters;

    public QuantCodec(int bits, bool perChannel = false, int axis = 1, SymbolCoding entropy = SymbolCoding.None, int level = 0)
    {
        if (bits is < QuantizationParameters.MinBits or > QuantizationParameters.MaxBits)
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "bits must be 1..16");
        if (axis is < 0 or >= TensorShape.MaxRank) throw new ArgumentOutOfRangeException(nameof(axis), axis, "axis must be 0..7");
        if (entropy is SymbolCoding.Zstd && level is < ZstdCodec.MinLevel or > ZstdCodec.MaxLevel)
            throw new ArgumentOutOfRangeException(nameof(level), level, "zstd level must be -7..22");
        if (entropy is SymbolCoding.Deflate && level is < DeflateCodec.MinLevel or > DeflateCodec.MaxLevel)
            throw new ArgumentOutOfRangeException(nameof(level), level, "deflate level must be 0..9");
        if (entropy is SymbolCoding.Rans)
        {
            if (bits > 12) throw new ArgumentException($"entropy=rans codes at most 12-bit symbols ({RansCoder.MaxAlphabetSize} levels); bits={bits}");
            if (level == 0) level = RansCoder.DefaultScaleBits;
            if (level is < RansCoder.MinScaleBits or > RansCoder.MaxScaleBits)
                throw new ArgumentOutOfRangeException(nameof(level), level, "rANS probability bits k must be 10..15");
        }
        else if (entropy is not (SymbolCoding.Zstd or SymbolCoding.Deflate)) level = 0;
        Bits = bits;
        PerChannel = perChannel;
        Axis = perChannel ? axis : 0;
        Entropy = entropy;
        Level = level;
        _parameters = [(byte)bits, (byte)(perChannel ? 1 : 0), (byte)Axis, (byte)entropy, unchecked((byte)(sbyte)level)];
    }

    public int Bits { get; }
    public bool PerChannel { get; }
    public int Axis { get; }
    public SymbolCoding Entropy { get; }

    /// <summary>zstd or deflate level; for rANS, the probability precision k (frequencies sum to 2^k).</summary>
    public int Level { get; }

    public override CodecId Id => CodecId.Quant;
    public override ReadOnlySpan<byte> ParameterBytes => _parameters;
    public override bool IsLossless => false;

    public override string Spec
    {
        get
        {
            string spec = $"quant:bits={Bits}";
            if (PerChannel) spec += $",per=channel,axis={Axis}";
            if (Entropy != SymbolCoding.None) spec += $",entropy={Entropy.ToString().ToLowerInvariant()}";
            if (Entropy is SymbolCoding.Zstd or SymbolCoding.Deflate) spec += $",level={Level}";
            if (Entropy is SymbolCoding.Rans && Level != RansCoder.DefaultScaleBits) spec += $",k={Level}";
            return spec;
        }
    }

    internal static QuantCodec FromSpec(CodecSpec spec)
    {
        int bits = spec.GetInt("bits", 8, QuantizationParameters.MinBits, QuantizationParameters.MaxBits);
        bool perChannel = spec.GetChoice("per", "tensor", "tensor", "channel") == "channel";
        int axis = perChannel ? spec.GetInt("axis", 1, 0, TensorShape.MaxRank - 1) : 0;
        var entropy = spec.GetChoice("entropy", "none", "none", "rans", "zstd", "deflate") switch
        {
            "rans" => SymbolCoding.Rans,
            "zstd" => SymbolCoding.Zstd,
            "deflate" => SymbolCoding.Deflate,
            _ => SymbolCoding.None,
        };
        int level = entropy switch
        {
            SymbolCoding.Zstd => spec.GetInt("level", 1, ZstdCodec.MinLevel, ZstdCodec.MaxLevel),
            SymbolCoding.Deflate => spec.GetInt("level", DeflateCodec.DefaultLevel, DeflateCodec.MinLevel, DeflateCodec.MaxLevel),
            SymbolCoding.Rans => spec.GetInt("k", RansCoder.DefaultScaleBits, RansCoder.MinScaleBits, RansCoder.MaxScaleBits),
            _ => 0,
        };
        return new QuantCodec(bits, perChannel, axis, entropy, level);
    }

    internal static QuantCodec FromParameters(ReadOnlySpan<byte> p)
    {
        if (p.Length != 5)
            throw new FrameFormatException(FrameError.BadParameters, $"quant parameters are 5 bytes, frame has {p.Length}");
        int bits = p[0], level = (sbyte)p[4];
        if (bits is < QuantizationParameters.MinBits or > QuantizationParameters.MaxBits || p[1] > 1 || p[2] >= TensorShape.MaxRank
            || p[3] > (byte)SymbolCoding.Deflate || (p[1] == 0 && p[2] != 0) || (p[3] == (byte)SymbolCoding.Rans && bits > 12))
            throw new FrameFormatException(FrameError.BadParameters, $"invalid quant parameters {Convert.ToHexString(p)}");
        var entropy = (SymbolCoding)p[3];
        bool levelOk = entropy switch
        {
            SymbolCoding.Zstd => level is >= ZstdCodec.MinLevel and <= ZstdCodec.MaxLevel,
            SymbolCoding.Deflate => level is >= DeflateCodec.MinLevel and <= DeflateCodec.MaxLevel,
            SymbolCoding.Rans => level is >= RansCoder.MinScaleBits and <= RansCoder.MaxScaleBits,
            _ => level == 0,
        };
        if (!levelOk) throw new FrameFormatException(FrameError.BadParameters, $"invalid level {level} for quant entropy {entropy}");
        return new QuantCodec(bits, p[1] == 1, p[2], entropy, level);
    }

    /// <summary>The number of channels and the elements each contiguous run of one channel spans.</summary>
    private (int Channels, int Inner) Layout(TensorShape shape)
    {
        if (!PerChannel || shape.Rank == 0) return (1, shape.ElementCount); // a scalar is its own single channel
        if (Axis >= shape.Rank)
            throw new ArgumentException($"per-channel axis {Axis} does not exist in a rank-{shape.Rank} tensor {shape}");
        int inner = 1;
        for (int a = Axis + 1; a < shape.Rank; a++) inner *= shape[a];
        return (shape[Axis], inner);
    }

    /// <summary>Fits parameters for each channel (per tensor: one set).</summary>
    public QuantizationParameters[] FitParameters(ReadOnlySpan<float> values, TensorShape shape)
    {
        var (channels, inner) = Layout(shape);
        var result = new QuantizationParameters[channels];
        if (channels == 1) { result[0] = UniformQuantizer.Fit(values, Bits); return result; }
        var mins = new float[channels];
        var maxs = new float[channels];
        mins.AsSpan().Fill(float.PositiveInfinity);
        maxs.AsSpan().Fill(float.NegativeInfinity);
        for (int start = 0, c = 0; start < values.Length; start += inner, c = (c + 1) % channels)
        {
            var (min, max) = UniformQuantizer.FiniteRange(values.Slice(start, inner));
            if (min == 0 && max == 0 && !HasFinite(values.Slice(start, inner))) continue;
            mins[c] = Math.Min(mins[c], min);
            maxs[c] = Math.Max(maxs[c], max);
        }
        for (int c = 0; c < channels; c++) result[c] = QuantizationParameters.FromRange(mins[c], maxs[c], Bits);
        return result;
    }

    private static bool HasFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values) if (float.IsFinite(v)) return true;
        return false;
    }

    /// <summary>Bytes per stored symbol: one up to 8 bits, else two (little-endian).</summary>
    private int SymbolWidth => Bits <= 8 ? 1 : 2;

    /// <summary>
    /// Quantizes the whole tensor with the given per-channel parameters into <paramref name="symbols"/>, which holds
    /// one byte per value when Bits &lt;= 8 and two little-endian bytes otherwise (the form the entropy stages read).
    /// </summary>
    public void QuantizeSymbols(ReadOnlySpan<float> values, TensorShape shape, QuantizationParameters[] parameters, Span<byte> symbols)
    {
        var (channels, inner) = Layout(shape);
        for (int start = 0, c = 0; start < values.Length; start += inner, c = (c + 1) % channels)
        {
            if (SymbolWidth == 1)
                UniformQuantizer.Quantize(values.Slice(start, inner), parameters[c], symbols.Slice(start, inner));
            else
                UniformQuantizer.Quantize(values.Slice(start, inner), parameters[c], MemoryMarshal.Cast<byte, ushort>(symbols).Slice(start, inner));
        }
    }

    public override double? EntropyBoundBytes(ReadOnlySpan<float> values, TensorShape shape)
    {
        var symbols = QuantizeAll(values, shape, out _);
        try
        {
            var span = symbols.AsSpan(0, values.Length * SymbolWidth);
            return SymbolWidth == 1 ? EntropyStatistics.Order0Bytes(span) : EntropyStatistics.Order0Bytes(MemoryMarshal.Cast<byte, ushort>(span));
        }
        finally { ArrayPool<byte>.Shared.Return(symbols); }
    }

    private byte[] QuantizeAll(ReadOnlySpan<float> values, TensorShape shape, out QuantizationParameters[] parameters)
    {
        parameters = FitParameters(values, shape);
        var symbols = ArrayPool<byte>.Shared.Rent(Math.Max(1, values.Length * SymbolWidth));
        QuantizeSymbols(values, shape, parameters, symbols.AsSpan(0, values.Length * SymbolWidth));
        return symbols;
    }

    protected internal override void EncodePayload(ReadOnlySpan<float> values, TensorShape shape, IBufferWriter<byte> payload)
    {
        var symbols = QuantizeAll(values, shape, out var parameters);
        try
        {
            Span<byte> head = payload.GetSpan(4 + 8 * parameters.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(head, (uint)parameters.Length);
            for (int c = 0; c < parameters.Length; c++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(head[(4 + 4 * c)..], parameters[c].Scale);
                BinaryPrimitives.WriteInt32LittleEndian(head[(4 + 4 * parameters.Length + 4 * c)..], parameters[c].ZeroPoint);
            }
            payload.Advance(4 + 8 * parameters.Length);
            WriteSymbols(symbols.AsSpan(0, values.Length * SymbolWidth), values.Length, payload);
        }
        finally { ArrayPool<byte>.Shared.Return(symbols); }
    }

    private void WriteSymbols(ReadOnlySpan<byte> symbols, int count, IBufferWriter<byte> payload)
    {
        switch (Entropy)
        {
            case SymbolCoding.None when Bits == 8:
                payload.Write(symbols);
                break;
            case SymbolCoding.None:
                int length = BitPacking.PackedLength(count, Bits);
                if (SymbolWidth == 1) BitPacking.Pack(symbols, Bits, payload.GetSpan(length));
                else BitPacking.Pack(MemoryMarshal.Cast<byte, ushort>(symbols), Bits, payload.GetSpan(length));
                payload.Advance(length);
                break;
            case SymbolCoding.Zstd:
                ByteCompressors.ZstdCompress(symbols, Level, payload);
                break;
            case SymbolCoding.Deflate:
                ByteCompressors.DeflateCompress(symbols, Level, payload);
                break;
            case SymbolCoding.Rans when SymbolWidth == 1:
                RansCoder.Encode(symbols, 1 << Bits, payload, Level);
                break;
            case SymbolCoding.Rans:
                RansCoder.Encode(MemoryMarshal.Cast<byte, ushort>(symbols), 1 << Bits, payload, Level);
                break;
            default:
                throw new InvalidOperationException($"symbol coding {Entropy} is not implemented");
        }
    }

    protected internal override void DecodePayload(ReadOnlySpan<byte> payload, TensorShape shape, Span<float> destination)
    {
        var reader = new PayloadReader(payload, "quant payload");
        var (channels, inner) = !PerChannel || shape.Rank == 0 || Axis < shape.Rank ? Layout(shape)
            : throw new FrameFormatException(FrameError.BadParameters, $"per-channel axis {Axis} does not exist in shape {shape}");
        uint stored = reader.ReadUInt32();
        if (stored != channels)
            throw new FrameFormatException(FrameError.CorruptPayload, $"quant payload has {stored} channel parameter sets, shape {shape} needs {channels}");
        var scales = reader.Take(4 * channels);
        var zeros = reader.Take(4 * channels);
        var parameters = new QuantizationParameters[channels];
        for (int c = 0; c < channels; c++)
        {
            parameters[c] = new QuantizationParameters(
                BinaryPrimitives.ReadSingleLittleEndian(scales[(4 * c)..]), BinaryPrimitives.ReadInt32LittleEndian(zeros[(4 * c)..]), Bits);
            if (!parameters[c].IsValid)
                throw new FrameFormatException(FrameError.CorruptPayload, $"channel {c} has invalid scale {parameters[c].Scale} or zero point {parameters[c].ZeroPoint}");
        }

        int n = destination.Length;
        var symbols = ArrayPool<byte>.Shared.Rent(Math.Max(1, n * SymbolWidth));
        try
        {
            var span = symbols.AsSpan(0, n * SymbolWidth);
            ReadSymbols(reader.Rest, span, n);
            for (int start = 0, c = 0; start < n; start += inner, c = (c + 1) % channels)
            {
                if (SymbolWidth == 1)
                    UniformQuantizer.Dequantize(span.Slice(start, inner), parameters[c], destination.Slice(start, inner));
                else
                    UniformQuantizer.Dequantize(MemoryMarshal.Cast<byte, ushort>(span).Slice(start, inner), parameters[c], destination.Slice(start, inner));
            }
        }
        finally { ArrayPool<byte>.Shared.Return(symbols); }
    }

    private void ReadSymbols(ReadOnlySpan<byte> data, Span<byte> symbols, int count)
    {
        switch (Entropy)
        {
            case SymbolCoding.None:
                PayloadReader.ExpectLength(data, BitPacking.PackedLength(count, Bits), $"{Bits}-bit packed symbols");
                if (Bits == 8) data.CopyTo(symbols);
                else if (SymbolWidth == 1) BitPacking.Unpack(data, Bits, symbols);
                else BitPacking.Unpack(data, Bits, MemoryMarshal.Cast<byte, ushort>(symbols));
                return; // packing cannot produce a symbol beyond the bit width
            case SymbolCoding.Zstd:
                ByteCompressors.ZstdDecompress(data, symbols, "quant symbols");
                break;
            case SymbolCoding.Deflate:
                ByteCompressors.DeflateDecompress(data, symbols, "quant symbols");
                break;
            case SymbolCoding.Rans:
                int used = SymbolWidth == 1 ? RansCoder.Decode(data, symbols) : RansCoder.Decode(data, MemoryMarshal.Cast<byte, ushort>(symbols));
                if (used != data.Length)
                    throw new FrameFormatException(FrameError.CorruptPayload, $"quant symbols: {data.Length - used} bytes follow the rANS block");
                break;
        }
        // A general-purpose compressor can hold any byte: refuse symbols beyond the bit width.
        int top = (1 << Bits) - 1;
        int bad = SymbolWidth == 1
            ? (top < byte.MaxValue ? symbols.IndexOfAnyInRange((byte)(top + 1), byte.MaxValue) : -1)
            : (top < ushort.MaxValue ? MemoryMarshal.Cast<byte, ushort>(symbols).IndexOfAnyInRange((ushort)(top + 1), ushort.MaxValue) : -1);
        if (bad >= 0)
        {
            int value = SymbolWidth == 1 ? symbols[bad] : MemoryMarshal.Cast<byte, ushort>(symbols)[bad];
            throw new FrameFormatException(FrameError.CorruptPayload, $"symbol {value} at {bad} exceeds the {Bits}-bit range");
        }
    }

    /// <summary>
    /// Packed symbols (no entropy coder) take exactly B bits an element after the channel count; an entropy-coded stream
    /// can describe a constant tensor in a few bytes (a single-symbol rANS block, a zstd run), so it has no floor.
    /// </summary>
    protected internal override long MinimumPayloadBytes(ReadOnlySpan<byte> payload, TensorShape shape) =>
        Entropy == SymbolCoding.None ? 4 + ((long)shape.ElementCount * Bits + 7) / 8 : 0;

    /// <summary>One pooled symbol buffer of one or two bytes an element.</summary>
    protected internal override long DecodeScratchBytes(ReadOnlySpan<byte> payload, TensorShape shape) =>
        ScratchSize.Pooled((long)shape.ElementCount * SymbolWidth, 1);
}
