using System.Buffers;

namespace Cleave.Codecs.Entropy;

/// <summary>
/// Static-model rANS entropy coder for quantized tensors. A block is self-contained: a header, a compact frequency
/// table built from the data, and up to 32 interleaved rANS states sharing one stream of 16-bit words. The symbol
/// count is not stored; the caller knows it from the tensor shape. Layout: docs/entropy-coding.md.
/// </summary>
public static class RansCoder
{
    /// <summary>Probability resolution 2^k used unless the caller asks otherwise; chosen by measurement (docs/entropy-coding.md).</summary>
    public const int DefaultScaleBits = 14;
    public const int MinScaleBits = 10, MaxScaleBits = 15;
    public const int MaxAlphabetSize = 4096;

    /// <summary>Most interleaved states a block uses.</summary>
    public const int MaxLanes = 32;

    /// <summary>Each state gets at least this many symbols, so small tensors do not pay 4 bytes per idle state.</summary>
    internal const int SymbolsPerLane = 4096;

    private const int ReservedHeaderBits = 0xC0;

    /// <summary>Appends a self-contained block (compact frequency table + interleaved rANS stream) to <paramref name="output"/>.</summary>
    /// <param name="symbols">Every symbol must be below <paramref name="alphabetSize"/>.</param>
    /// <param name="alphabetSize">1..<see cref="MaxAlphabetSize"/>; recorded in the block and checked on decode.</param>
    /// <param name="scaleBits">Finest probability resolution 2^k, <see cref="MinScaleBits"/>..<see cref="MaxScaleBits"/>.</param>
    /// <exception cref="ArgumentException">A symbol is outside the alphabet, or there are more distinct symbols than 2^scaleBits.</exception>
    public static void Encode(ReadOnlySpan<byte> symbols, int alphabetSize, IBufferWriter<byte> output, int scaleBits = DefaultScaleBits) =>
        EncodeCore(symbols, alphabetSize, output, scaleBits);

    /// <inheritdoc cref="Encode(ReadOnlySpan{byte}, int, IBufferWriter{byte}, int)"/>
    public static void Encode(ReadOnlySpan<ushort> symbols, int alphabetSize, IBufferWriter<byte> output, int scaleBits = DefaultScaleBits) =>
        EncodeCore(symbols, alphabetSize, output, scaleBits);

    /// <summary>
    /// Upper bound on a block's size, for sizing buffers: header (11 bytes), a table of at most 8 bytes a symbol of the
    /// alphabet, two bytes a symbol of stream, and <see cref="MaxLanes"/> states.
    /// </summary>
    public static long GetMaxEncodedLength(int symbolCount, int alphabetSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(symbolCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(alphabetSize, 1);
        return 11 + 5 + 8L * alphabetSize + 2L * symbolCount + 4 * MaxLanes;
    }

    /// <summary>Decodes exactly destination.Length symbols from the start of <paramref name="encoded"/>; returns the bytes consumed.</summary>
    /// <exception cref="FrameFormatException">The block is truncated or corrupt, or holds symbols above 255.</exception>
    public static int Decode(ReadOnlySpan<byte> encoded, Span<byte> destination) => DecodeCore(encoded, destination);

    /// <summary>Decodes exactly destination.Length symbols from the start of <paramref name="encoded"/>; returns the bytes consumed.</summary>
    /// <exception cref="FrameFormatException">The block is truncated or corrupt.</exception>
    public static int Decode(ReadOnlySpan<byte> encoded, Span<ushort> destination) => DecodeCore(encoded, destination);

    /// <summary>
    /// Interleaved states for a block: 1 up to 8191 symbols, doubling while every state still gets 4096 symbols and
    /// the 4-byte states stay under 1/256 of the estimated stream, up to 32. More states decode faster (more
    /// independent work per step); each one costs 4 bytes.
    /// </summary>
    internal static int LanesFor(int symbolCount, double estimatedStreamBytes)
    {
        int lanes = 1;
        while (lanes < MaxLanes && symbolCount >= 2L * lanes * SymbolsPerLane && estimatedStreamBytes >= 2.0 * lanes * 4 * 256)
            lanes *= 2;
        return lanes;
    }

    private static void EncodeCore<T>(ReadOnlySpan<T> symbols, int alphabetSize, IBufferWriter<byte> output, int scaleBits)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfLessThan(alphabetSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(alphabetSize, MaxAlphabetSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(scaleBits, MinScaleBits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(scaleBits, MaxScaleBits);
        // The stream buffer holds up to two bytes a symbol; 2^29 symbols is twice the largest tensor a decoder accepts.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(symbols.Length, 1 << 29, nameof(symbols));

        int[] counts = ArrayPool<int>.Shared.Rent(Math.Max(alphabetSize, 256));
        int[] frequencies = ArrayPool<int>.Shared.Rent(alphabetSize);
        try
        {
            SymbolHistogram.Count(symbols, alphabetSize, counts.AsSpan(0, alphabetSize));
            Span<int> used = counts.AsSpan(0, alphabetSize);
            Span<int> freqs = frequencies.AsSpan(0, alphabetSize);
            int precision = FrequencyTableCodec.Choose(used, symbols.Length, scaleBits, freqs, out double estimatedBits);

            var table = new TableBitWriter();
            FrequencyTableCodec.Write(table, freqs, precision, alphabetSize);
            int lanes = precision == 0 ? 1 : LanesFor(symbols.Length, estimatedBits / 8);

            if (precision == 0)
            {
                WriteBlock(output, scaleBits, lanes, alphabetSize, table.Bytes, ReadOnlySpan<byte>.Empty);
                return;
            }

            // Pooled: only the entries of used symbols are read, and each of those is written below.
            RansEncodeSymbol[] encodeTable = ArrayPool<RansEncodeSymbol>.Shared.Rent(alphabetSize);
            // The stream is coded at the table's precision: the same probabilities as at 2^scaleBits, smaller tables.
            int start = 0;
            for (int s = 0; s < alphabetSize; s++)
            {
                int f = freqs[s];
                if (f == 0) continue;
                encodeTable[s] = RansEncodeSymbol.Create(start, f, precision);
                start += f;
            }

            byte[] buffer = ArrayPool<byte>.Shared.Rent(RansStreamEncoder.MaxStreamBytes(symbols.Length, lanes));
            try
            {
                int length = RansStreamEncoder.Encode(symbols, encodeTable, lanes, buffer);
                int evenEnd = buffer.Length & ~1;
                WriteBlock(output, scaleBits, lanes, alphabetSize, table.Bytes, buffer.AsSpan(evenEnd - length, length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
                ArrayPool<RansEncodeSymbol>.Shared.Return(encodeTable);
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(counts);
            ArrayPool<int>.Shared.Return(frequencies);
        }
    }

    private static void WriteBlock(IBufferWriter<byte> output, int scaleBits, int lanes, int alphabetSize,
        ReadOnlySpan<byte> table, ReadOnlySpan<byte> stream)
    {
        int total = 1 + 2 * VarInt.MaxBytes + table.Length + stream.Length;
        Span<byte> target = output.GetSpan(total);
        int position = 0;
        target[position++] = (byte)((scaleBits - MinScaleBits) | (System.Numerics.BitOperations.Log2((uint)lanes) << 3));
        position += VarInt.Write(target.Slice(position), (uint)alphabetSize);
        position += VarInt.Write(target.Slice(position), (uint)stream.Length);
        table.CopyTo(target.Slice(position));
        position += table.Length;
        stream.CopyTo(target.Slice(position));
        position += stream.Length;
        output.Advance(position);
    }

    /// <summary>Reads a block's header and table (validating them) without decoding the stream.</summary>
    /// <exception cref="FrameFormatException">The header or table is truncated or corrupt.</exception>
    public static RansBlockInfo ReadBlockInfo(ReadOnlySpan<byte> encoded)
    {
        ReadHeader(encoded, out int scaleBits, out int lanes, out uint alphabetSize, out uint streamLength, out int position);
        int[] frequencies = ArrayPool<int>.Shared.Rent((int)alphabetSize);
        try
        {
            var reader = new TableBitReader(encoded.Slice(position));
            int precision = FrequencyTableCodec.Read(ref reader, (int)alphabetSize, scaleBits, frequencies.AsSpan(0, (int)alphabetSize), out _);
            int headerBytes = position + reader.BytesConsumed;
            if (streamLength > (uint)(encoded.Length - headerBytes))
                throw new FrameFormatException(FrameError.Truncated, $"rANS stream needs {streamLength} bytes, {encoded.Length - headerBytes} remain");
            return new RansBlockInfo(scaleBits, lanes, (int)alphabetSize, precision, headerBytes, reader.BytesConsumed, (int)streamLength);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(frequencies);
        }
    }

    private static void ReadHeader(ReadOnlySpan<byte> encoded, out int scaleBits, out int lanes, out uint alphabetSize,
        out uint streamLength, out int position)
    {
        if (encoded.Length < 1) throw new FrameFormatException(FrameError.Truncated, "rANS block is empty");
        int header = encoded[0];
        if ((header & ReservedHeaderBits) != 0)
            throw new FrameFormatException(FrameError.CorruptPayload, "rANS block header has reserved bits set");
        scaleBits = MinScaleBits + (header & 7);
        lanes = 1 << ((header >> 3) & 7);
        if (scaleBits > MaxScaleBits || lanes > MaxLanes)
            throw new FrameFormatException(FrameError.CorruptPayload, $"rANS block header byte 0x{header:X2} is invalid");
        position = 1;
        alphabetSize = VarInt.Read(encoded, ref position);
        streamLength = VarInt.Read(encoded, ref position);
        if (alphabetSize < 1 || alphabetSize > MaxAlphabetSize)
            throw new FrameFormatException(FrameError.CorruptPayload, $"rANS alphabet size {alphabetSize} is outside 1..{MaxAlphabetSize}");
    }

    private static int DecodeCore<T>(ReadOnlySpan<byte> encoded, Span<T> destination) where T : unmanaged
    {
        ReadHeader(encoded, out int scaleBits, out int lanes, out uint alphabetSize, out uint streamLength, out int position);

        int[] frequencies = ArrayPool<int>.Shared.Rent((int)alphabetSize);
        try
        {
            Span<int> freqs = frequencies.AsSpan(0, (int)alphabetSize);
            var reader = new TableBitReader(encoded.Slice(position));
            int precision = FrequencyTableCodec.Read(ref reader, (int)alphabetSize, scaleBits, freqs, out int singleSymbol);
            position += reader.BytesConsumed;
            if (streamLength > (uint)(encoded.Length - position))
                throw new FrameFormatException(FrameError.Truncated, $"rANS stream needs {streamLength} bytes, {encoded.Length - position} remain");
            if (typeof(T) == typeof(byte))
                for (int s = 256; s < freqs.Length; s++)
                    if (freqs[s] != 0)
                        throw new FrameFormatException(FrameError.CorruptPayload, $"rANS block holds symbol {s}, which does not fit a byte");

            ReadOnlySpan<byte> stream = encoded.Slice(position, (int)streamLength);
            if (precision == 0)
            {
                if (streamLength != 0) throw new FrameFormatException(FrameError.CorruptPayload, "single-symbol rANS block carries a stream");
                Fill(destination, singleSymbol);
                return position;
            }

            int slots = 1 << precision;
            int[] slotSymbols = ArrayPool<int>.Shared.Rent(slots);
            uint[] slotSteps = ArrayPool<uint>.Shared.Rent(slots);
            try
            {
                int start = 0;
                for (int s = 0; s < freqs.Length; s++)
                {
                    int f = freqs[s];
                    if (f == 0) continue;
                    slotSymbols.AsSpan(start, f).Fill(s);
                    for (int j = 0; j < f; j++) slotSteps[start + j] = (uint)f | ((uint)j << 16);
                    start += f;
                }
                RansStreamDecoder.Decode(stream, destination, lanes, precision, slotSymbols, slotSteps);
            }
            finally
            {
                ArrayPool<int>.Shared.Return(slotSymbols);
                ArrayPool<uint>.Shared.Return(slotSteps);
            }
            return position + (int)streamLength;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(frequencies);
        }
    }

    private static void Fill<T>(Span<T> destination, int symbol) where T : unmanaged
    {
        if (typeof(T) == typeof(byte)) System.Runtime.InteropServices.MemoryMarshal.Cast<T, byte>(destination).Fill((byte)symbol);
        else System.Runtime.InteropServices.MemoryMarshal.Cast<T, ushort>(destination).Fill((ushort)symbol);
    }
}
