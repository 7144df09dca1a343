using System.Buffers.Binary;
using System.Text;
using Cleave.Models.Importers.Llama2c;

namespace Cleave.Models.Text;

/// <summary>
/// llama2.c's byte-pair tokenizer (tokenizer.bin: max_token_length int32, then per token a float score, an int32
/// length and the piece's bytes), encoding and decoding exactly as its run.c does.
/// </summary>
/// <remarks>
/// Encoding: optional BOS, a " " dummy prefix, one token per UTF-8 code point (or byte-fallback tokens &lt;0xXX&gt; at
/// id byte + 3), then repeatedly merge the adjacent pair whose concatenation is in the vocabulary with the highest
/// score (the leftmost on ties). Decoding strips the leading space of the piece after BOS and turns &lt;0xXX&gt; into raw bytes.
/// </remarks>
public sealed class Llama2cTokenizer
{
    public const int Unknown = 0, Bos = 1, Eos = 2;
    private const int ByteFallbackOffset = 3;

    private readonly byte[][] _pieces;
    private readonly float[] _scores;
    private readonly string[] _latin1;             // pieces as Latin-1 strings: one char per byte, exact and cheap
    private readonly Dictionary<string, int> _ids;
    private readonly int _space;

    private Llama2cTokenizer(byte[][] pieces, float[] scores, int maxTokenLength)
    {
        _pieces = pieces;
        _scores = scores;
        MaxTokenLength = maxTokenLength;
        _ids = new Dictionary<string, int>(pieces.Length, StringComparer.Ordinal);
        _latin1 = new string[pieces.Length];
        for (int i = 0; i < pieces.Length; i++)
        {
            _latin1[i] = Encoding.Latin1.GetString(pieces[i]);
            _ids.TryAdd(_latin1[i], i); // the first of duplicates wins
        }
        _space = _ids.TryGetValue(" ", out int space) ? space : -1;
    }

    public int VocabSize => _pieces.Length;
    public int MaxTokenLength { get; }

    /// <summary>The raw bytes of token <paramref name="id"/>'s piece.</summary>
    public ReadOnlySpan<byte> Piece(int id) => _pieces[id];
    public float Score(int id) => _scores[id];

    public static Llama2cTokenizer Load(string path, int vocabSize)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Parse(File.ReadAllBytes(path), vocabSize);
    }

    /// <summary>Parses a tokenizer.bin for a model with <paramref name="vocabSize"/> tokens (the file does not say how many).</summary>
    public static Llama2cTokenizer Parse(ReadOnlySpan<byte> file, int vocabSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, ByteFallbackOffset + 256);
        if (file.Length < 4) throw new Llama2cFormatException($"tokenizer file truncated: {file.Length} bytes");
        int maxLength = BinaryPrimitives.ReadInt32LittleEndian(file);
        if (maxLength is <= 0 or > 1 << 16) throw new Llama2cFormatException($"tokenizer max_token_length {maxLength} is not plausible");
        var pieces = new byte[vocabSize][];
        var scores = new float[vocabSize];
        int offset = 4;
        for (int i = 0; i < vocabSize; i++)
        {
            if (file.Length - offset < 8) throw new Llama2cFormatException($"tokenizer file truncated at token {i} of {vocabSize}");
            scores[i] = BinaryPrimitives.ReadSingleLittleEndian(file[offset..]);
            int length = BinaryPrimitives.ReadInt32LittleEndian(file[(offset + 4)..]);
            offset += 8;
            if (length < 0 || length > maxLength || length > file.Length - offset)
                throw new Llama2cFormatException($"tokenizer token {i} has length {length} (max_token_length {maxLength}, {file.Length - offset} bytes left)");
            pieces[i] = file.Slice(offset, length).ToArray();
            offset += length;
        }
        if (offset != file.Length)
            throw new Llama2cFormatException($"tokenizer file has {file.Length - offset} bytes after its {vocabSize} tokens: wrong vocabulary size?");
        return new Llama2cTokenizer(pieces, scores, maxLength);
    }

    public int[] Encode(string text, bool bos = true, bool eos = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        var tokens = new List<int>(utf8.Length + 3);
        if (bos) tokens.Add(Bos);
        if (utf8.Length > 0)
        {
            if (_space < 0) throw new InvalidOperationException("the vocabulary has no \" \" token for the dummy prefix");
            tokens.Add(_space);
        }

        // One token per code point, else its bytes as fallback tokens.
        for (int i = 0; i < utf8.Length;)
        {
            int length = 1;
            while (length < 4 && i + length < utf8.Length && (utf8[i + length] & 0xC0) == 0x80) length++;
            if (_ids.TryGetValue(Encoding.Latin1.GetString(utf8, i, length), out int id))
                tokens.Add(id);
            else
                for (int j = 0; j < length; j++) tokens.Add(utf8[i + j] + ByteFallbackOffset);
            i += length;
        }

        MergePairs(tokens);
        if (eos) tokens.Add(Eos);
        return [.. tokens];
    }

    /// <summary>
    /// run.c's merge loop (repeatedly merge the adjacent pair with the highest score, the leftmost on ties) in
    /// O(n log n) instead of its O(n^2): candidate pairs wait in a priority queue keyed by (score, left position), and a
    /// merge re-queues only its two new neighbour pairs. Entries made stale by a merge are recognised by a version stamp.
    /// </summary>
    private void MergePairs(List<int> tokens)
    {
        int n = tokens.Count;
        if (n < 2) return;
        var token = tokens.ToArray();
        var next = new int[n];
        var previous = new int[n];
        var version = new int[n];
        var alive = new bool[n];
        for (int i = 0; i < n; i++)
        {
            next[i] = i + 1 < n ? i + 1 : -1;
            previous[i] = i - 1;
            alive[i] = true;
        }
        var queue = new PriorityQueue<(int Left, int Version, int Merged), (float NegativeScore, int Left)>();
        void Offer(int left)
        {
            int right = next[left];
            if (right >= 0 && _ids.TryGetValue(string.Concat(_latin1[token[left]], _latin1[token[right]]), out int merged))
                queue.Enqueue((left, version[left], merged), (-_scores[merged], left));
        }
        for (int i = 0; i + 1 < n; i++) Offer(i);

        while (queue.TryDequeue(out var candidate, out _))
        {
            int left = candidate.Left;
            if (!alive[left] || version[left] != candidate.Version) continue; // a merge changed this pair since it was queued
            int right = next[left];
            token[left] = candidate.Merged;
            alive[right] = false;
            next[left] = next[right];
            if (next[right] >= 0) previous[next[right]] = left;
            version[left]++;
            if (previous[left] >= 0)
            {
                version[previous[left]]++;
                Offer(previous[left]);
            }
            Offer(left);
        }

        tokens.Clear();
        for (int i = 0; i >= 0; i = next[i]) tokens.Add(token[i]);
    }

    /// <summary>The bytes token <paramref name="token"/> prints after <paramref name="previous"/> (run.c's decode).</summary>
    public ReadOnlySpan<byte> DecodePiece(int previous, int token)
    {
        ReadOnlySpan<byte> piece = _pieces[token];
        if (previous == Bos && piece.Length > 0 && piece[0] == (byte)' ') piece = piece[1..];
        if (TryParseByteToken(piece, out byte value)) return ByteSpan(value);
        return piece;
    }

    /// <summary>
    /// The text of a token sequence: pieces after their predecessors (the first one's predecessor is BOS when
    /// <paramref name="afterBos"/>), control tokens (unknown, BOS, EOS) skipped, bytes decoded as UTF-8.
    /// </summary>
    public string Decode(ReadOnlySpan<int> tokens, bool afterBos = true)
    {
        var bytes = new List<byte>(tokens.Length * 4);
        int previous = afterBos ? Bos : -1;
        foreach (int token in tokens)
        {
            if ((uint)token >= (uint)_pieces.Length) throw new ArgumentOutOfRangeException(nameof(tokens), token, $"token id outside the vocabulary of {_pieces.Length}");
            if (token is not (Unknown or Bos or Eos)) bytes.AddRange(DecodePiece(previous, token));
            previous = token;
        }
        return Encoding.UTF8.GetString([.. bytes]);
    }

    private static readonly byte[] AllBytes = CreateAllBytes();

    private static byte[] CreateAllBytes()
    {
        var all = new byte[256];
        for (int i = 0; i < 256; i++) all[i] = (byte)i;
        return all;
    }

    private static ReadOnlySpan<byte> ByteSpan(byte value) => AllBytes.AsSpan(value, 1);

    private static bool TryParseByteToken(ReadOnlySpan<byte> piece, out byte value)
    {
        value = 0;
        if (piece.Length != 6 || piece[0] != '<' || piece[1] != '0' || piece[2] != 'x' || piece[5] != '>') return false;
        int hi = HexValue(piece[3]), lo = HexValue(piece[4]);
        if (hi < 0 || lo < 0) return false;
        value = (byte)(hi * 16 + lo);
        return true;
    }

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        _ => -1,
    };
}
