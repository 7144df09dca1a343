namespace Cleave.Codecs;

/// <summary>
/// A canonical, length-limited prefix (Huffman) code over a small alphabet. Per-token payloads are a few dozen bytes,
/// where a prefix code wastes a fraction of a bit per symbol while an rANS block would spend several bytes on its
/// final state; the code itself is described by its code lengths alone, sent once per session.
/// </summary>
public sealed class PrefixCode
{
    public const int MaxLength = 15;
    public const int MaxAlphabet = 4096;

    private readonly byte[] _lengths;
    private readonly ushort[] _codes;
    // Canonical decoding: per length, the first code, the number of codes and where its symbols start in _sorted.
    private readonly int[] _firstCode = new int[MaxLength + 2];
    private readonly int[] _countOf = new int[MaxLength + 2];
    private readonly int[] _firstIndex = new int[MaxLength + 2];
    private readonly ushort[] _sorted;

    private PrefixCode(byte[] lengths)
    {
        _lengths = lengths;
        ShortestLength = lengths.Length == 0 ? 1 : lengths.Min();
        _codes = new ushort[lengths.Length];
        foreach (byte l in lengths) _countOf[l]++;
        // Kraft equality keeps the code complete, so every bit pattern decodes and padding can be checked.
        long kraft = 0;
        for (int l = 1; l <= MaxLength; l++) kraft += (long)_countOf[l] << (MaxLength - l);
        if (lengths.Length == 1 ? kraft != 1L << (MaxLength - 1) : kraft != 1L << MaxLength)
            throw new FrameFormatException(FrameError.BadParameters, "prefix code lengths do not form a complete code");
        int code = 0, index = 0;
        for (int l = 1; l <= MaxLength; l++)
        {
            code = (code + _countOf[l - 1]) << 1;
            if (l == 1) code = 0;
            _firstCode[l] = code;
            _firstIndex[l] = index;
            index += _countOf[l];
        }
        _sorted = new ushort[lengths.Length];
        var next = (int[])_firstCode.Clone();
        var fill = (int[])_firstIndex.Clone();
        for (int s = 0; s < lengths.Length; s++)
        {
            int l = lengths[s];
            _codes[s] = (ushort)next[l]++;
            _sorted[fill[l]++] = (ushort)s;
        }
    }

    public int AlphabetSize => _lengths.Length;
    public ReadOnlySpan<byte> Lengths => _lengths;
    public int LengthOf(int symbol) => _lengths[symbol];

    /// <summary>The fewest bits any symbol takes (at least 1: every code length is 1..<see cref="MaxLength"/>).</summary>
    public int ShortestLength { get; private init; }

    /// <summary>Rebuilds a code from its lengths (1..15 each, complete); hostile lengths give <see cref="FrameFormatException"/>.</summary>
    public static PrefixCode FromLengths(ReadOnlySpan<byte> lengths)
    {
        if (lengths.Length is < 1 or > MaxAlphabet)
            throw new FrameFormatException(FrameError.BadParameters, $"prefix code alphabet of {lengths.Length} symbols (1..{MaxAlphabet})");
        foreach (byte l in lengths)
            if (l is < 1 or > MaxLength) throw new FrameFormatException(FrameError.BadParameters, $"prefix code length {l} outside 1..{MaxLength}");
        return new PrefixCode(lengths.ToArray());
    }

    /// <summary>
    /// The optimal code for <paramref name="counts"/> with lengths capped at <paramref name="maxLength"/>: every symbol
    /// gets a code (a count of 0 is treated as 1), and while the longest code is too long the counts are halved
    /// (keeping them at least 1), which flattens the distribution until it fits.
    /// </summary>
    public static PrefixCode FromCounts(ReadOnlySpan<long> counts, int maxLength = MaxLength)
    {
        if (counts.Length is < 1 or > MaxAlphabet) throw new ArgumentOutOfRangeException(nameof(counts), counts.Length, $"alphabet must hold 1..{MaxAlphabet} symbols");
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxLength, MaxLength);
        if (counts.Length == 1) return new PrefixCode([1]);
        if (counts.Length > 1 << maxLength) throw new ArgumentException($"{counts.Length} symbols do not fit codes of at most {maxLength} bits");
        var weights = new long[counts.Length];
        for (int i = 0; i < weights.Length; i++) weights[i] = Math.Max(1, counts[i]);
        while (true)
        {
            byte[] lengths = HuffmanLengths(weights);
            int longest = 0;
            foreach (byte l in lengths) longest = Math.Max(longest, l);
            if (longest <= maxLength) return new PrefixCode(lengths);
            for (int i = 0; i < weights.Length; i++) weights[i] = Math.Max(1, weights[i] / 2);
        }
    }

    private static byte[] HuffmanLengths(long[] weights)
    {
        int n = weights.Length;
        var parent = new int[2 * n - 1];
        var queue = new PriorityQueue<int, (long Weight, int Node)>(n);
        var weight = new long[2 * n - 1];
        for (int i = 0; i < n; i++)
        {
            weight[i] = weights[i];
            queue.Enqueue(i, (weights[i], i));
        }
        for (int node = n; node < 2 * n - 1; node++)
        {
            int a = queue.Dequeue(), b = queue.Dequeue();
            parent[a] = parent[b] = node;
            weight[node] = weight[a] + weight[b];
            queue.Enqueue(node, (weight[node], node));
        }
        var depth = new int[2 * n - 1];
        var lengths = new byte[n];
        for (int node = 2 * n - 3; node >= 0; node--) depth[node] = depth[parent[node]] + 1;
        for (int i = 0; i < n; i++) lengths[i] = (byte)Math.Min(depth[i], 255);
        return lengths;
    }

    /// <summary>Appends the code of <paramref name="symbol"/> to <paramref name="writer"/>.</summary>
    public void Write(ref BitWriter writer, int symbol) => writer.Write(_codes[symbol], _lengths[symbol]);

    /// <summary>Reads one symbol; a code running past the end of the data gives <see cref="FrameFormatException"/>.</summary>
    public int Read(ref BitReader reader)
    {
        int code = 0;
        for (int l = 1; l <= MaxLength; l++)
        {
            code = (code << 1) | reader.ReadBit();
            int offset = code - _firstCode[l];
            if (offset >= 0 && offset < _countOf[l]) return _sorted[_firstIndex[l] + offset];
        }
        throw new FrameFormatException(FrameError.CorruptPayload, "invalid prefix code");
    }
}

/// <summary>Writes bits most significant first into a growing byte list; the last byte is padded with zeros.</summary>
public ref struct BitWriter(List<byte> output)
{
    private readonly List<byte> _output = output;
    private int _pending, _pendingBits;

    public void Write(int code, int length)
    {
        for (int i = length - 1; i >= 0; i--)
        {
            _pending = (_pending << 1) | ((code >> i) & 1);
            if (++_pendingBits == 8)
            {
                _output.Add((byte)_pending);
                _pending = _pendingBits = 0;
            }
        }
    }

    public void Flush()
    {
        if (_pendingBits == 0) return;
        _output.Add((byte)(_pending << (8 - _pendingBits)));
        _pending = _pendingBits = 0;
    }
}

/// <summary>Reads bits most significant first; running past the end is a <see cref="FrameFormatException"/>.</summary>
public ref struct BitReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _bit;

    public readonly int BitsRead => _bit;

    public int ReadBit()
    {
        int byteIndex = _bit >> 3;
        if (byteIndex >= _data.Length) throw new FrameFormatException(FrameError.Truncated, "token payload ends inside a code");
        int value = (_data[byteIndex] >> (7 - (_bit & 7))) & 1;
        _bit++;
        return value;
    }

    /// <summary>Checks that only zero padding (fewer than 8 bits) is left.</summary>
    public readonly void EnsureOnlyPaddingLeft()
    {
        int usedBytes = (_bit + 7) >> 3;
        if (usedBytes != _data.Length)
            throw new FrameFormatException(FrameError.TrailingBytes, $"token payload has {_data.Length - usedBytes} bytes after its last code");
        if ((_bit & 7) != 0 && (_data[^1] & ((1 << (8 - (_bit & 7))) - 1)) != 0)
            throw new FrameFormatException(FrameError.CorruptPayload, "token payload padding bits are not zero");
    }
}
