using System.Buffers.Binary;
using System.Text;
using Cleave.Models.Importers.Llama2c;
using Cleave.Models.Text;
using Xunit.Abstractions;

namespace Cleave.Models.Tests.Llama2c;

public sealed class Llama2cTokenizerTests(ITestOutputHelper output)
{
    // A hand-made vocabulary: control tokens, 256 byte tokens, then a few pieces whose merges are known.
    private const int Space = 259, A = 260, B = 261, Ab = 262, SpaceAb = 263, Ba = 264, EAcute = 265;

    private static byte[] SyntheticFile(out int vocab)
    {
        var pieces = new List<(string Piece, float Score)> { ("<unk>", 0), ("\n<s>\n", 0), ("\n</s>\n", 0) };
        for (int b = 0; b < 256; b++) pieces.Add(($"<0x{b:X2}>", 0));
        pieces.AddRange([(" ", -10), ("a", -10), ("b", -10), ("ab", -1), (" ab", -2), ("ba", -1), ("é", -5)]);
        vocab = pieces.Count;
        var stream = new MemoryStream();
        Span<byte> four = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(four, 8);
        stream.Write(four);
        foreach (var (piece, score) in pieces)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(piece);
            BinaryPrimitives.WriteSingleLittleEndian(four, score);
            stream.Write(four);
            BinaryPrimitives.WriteInt32LittleEndian(four, bytes.Length);
            stream.Write(four);
            stream.Write(bytes);
        }
        return stream.ToArray();
    }

    private static Llama2cTokenizer Synthetic()
    {
        byte[] file = SyntheticFile(out int vocab);
        return Llama2cTokenizer.Parse(file, vocab);
    }

    [Fact]
    public void Merges_pairs_by_score_after_the_dummy_prefix()
    {
        var tok = Synthetic();
        Assert.Equal([Llama2cTokenizer.Bos, SpaceAb], tok.Encode("ab"));
        Assert.Equal([SpaceAb], tok.Encode("ab", bos: false));
        Assert.Equal([Llama2cTokenizer.Bos, SpaceAb, Llama2cTokenizer.Eos], tok.Encode("ab", bos: true, eos: true));
        // "ba" and "ab" tie at score -1: the leftmost pair merges first, after which nothing else can.
        Assert.Equal([Llama2cTokenizer.Bos, Space, Ba, B], tok.Encode("bab"));
        Assert.Equal([Llama2cTokenizer.Bos], tok.Encode(""));
        Assert.Empty(tok.Encode("", bos: false));
    }

    [Fact]
    public void Code_points_missing_from_the_vocabulary_fall_back_to_byte_tokens()
    {
        var tok = Synthetic();
        Assert.Equal([Llama2cTokenizer.Bos, Space, EAcute], tok.Encode("é"));
        Assert.Equal([Llama2cTokenizer.Bos, Space, 0xE2 + 3, 0x82 + 3, 0xAC + 3], tok.Encode("€"));
        Assert.Equal("€é", tok.Decode(tok.Encode("€é")));
    }

    [Fact]
    public void Decoding_strips_the_space_after_bos_only()
    {
        var tok = Synthetic();
        Assert.Equal("ab", tok.Decode([Llama2cTokenizer.Bos, SpaceAb]));
        Assert.Equal("ab", tok.Decode([SpaceAb]));
        Assert.Equal(" ab", tok.Decode([SpaceAb], afterBos: false));
        Assert.Equal("ab ab", tok.Decode([SpaceAb, SpaceAb]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tok.Decode([tok.VocabSize]));
    }

    [Fact]
    public void Truncated_or_oversized_files_are_refused()
    {
        byte[] file = SyntheticFile(out int vocab);
        Assert.Throws<Llama2cFormatException>(() => Llama2cTokenizer.Parse(file.AsSpan(0, file.Length - 1), vocab));
        Assert.Throws<Llama2cFormatException>(() => Llama2cTokenizer.Parse(file.AsSpan(0, 2), vocab));
        var e = Assert.Throws<Llama2cFormatException>(() => Llama2cTokenizer.Parse(file, vocab - 1));
        Assert.Contains("wrong vocabulary size", e.Message);
        byte[] badLength = (byte[])file.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(badLength.AsSpan(4 + 4), 1000); // token 0 claims 1000 bytes
        Assert.Throws<Llama2cFormatException>(() => Llama2cTokenizer.Parse(badLength, vocab));
    }

    [AssetFact(Stories260K.Tokenizer, Stories260K.Checkpoint, Stories260K.Sample)]
    public void Stories_tokenizer_round_trips_text()
    {
        var tok = Stories260K.Tok;
        Assert.Equal(512, tok.VocabSize);
        string[] texts =
        [
            "Once upon a time", "He said, “Wow, that is a really amazing vase!”", "naïve café 😀 日本", "  two leading spaces",
            "tabs\tand\nnewlines\n", "x",
            .. TextDocuments.Split(File.ReadAllText(TestAssets.Path(Stories260K.Sample))),
        ];
        foreach (string text in texts)
        {
            int[] tokens = tok.Encode(text);
            Assert.Equal(Llama2cTokenizer.Bos, tokens[0]);
            Assert.All(tokens, t => Assert.InRange(t, 0, tok.VocabSize - 1));
            Assert.Equal(text, tok.Decode(tokens));
            Assert.True(tokens.Length <= Encoding.UTF8.GetByteCount(text) + 2);
        }
    }

    [AssetFact(Stories260K.Tokenizer, Stories260K.Checkpoint)]
    public void Stories_tokenizer_known_encodings()
    {
        var tok = Stories260K.Tok;
        // Pieces " Once| upon| a| time|,| there| was| a| little| g|ir|l| named| Lily|." (the 512 vocabulary has no "girl").
        int[] tokens = tok.Encode("Once upon a time, there was a little girl named Lily.");
        output.WriteLine(string.Join(" ", tokens));
        Assert.Equal([1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426], tokens);
        Assert.Equal(" Once", Encoding.UTF8.GetString(tok.Piece(403)));
        // Emoji are not in the vocabulary: four byte tokens at id byte + 3 after the dummy-prefix space.
        int space = Enumerable.Range(0, tok.VocabSize).First(i => tok.Piece(i) is [(byte)' ']);
        Assert.Equal([Llama2cTokenizer.Bos, space, 0xF0 + 3, 0x9F + 3, 0x98 + 3, 0x80 + 3], tok.Encode("😀"));
    }
}

/// <summary>The fast merge loop against a literal port of run.c's quadratic one, on random text.</summary>
public sealed class Llama2cTokenizerMergeTests
{
    private static int[] RunCEncode(Llama2cTokenizer tok, string text)
    {
        // Start from the unmerged tokens: code points the vocabulary holds, else bytes + 3.
        var tokens = new List<int> { Llama2cTokenizer.Bos };
        var latin = new Dictionary<string, int>();
        for (int i = 0; i < tok.VocabSize; i++) latin.TryAdd(Encoding.Latin1.GetString(tok.Piece(i)), i);
        byte[] utf8 = Encoding.UTF8.GetBytes(" " + text);
        for (int i = 0; i < utf8.Length;)
        {
            int length = 1;
            while (length < 4 && i + length < utf8.Length && (utf8[i + length] & 0xC0) == 0x80) length++;
            if (latin.TryGetValue(Encoding.Latin1.GetString(utf8, i, length), out int id)) tokens.Add(id);
            else for (int j = 0; j < length; j++) tokens.Add(utf8[i + j] + 3);
            i += length;
        }
        while (true)
        {
            float best = -1e10f;
            int bestId = -1, bestIndex = -1;
            for (int i = 0; i + 1 < tokens.Count; i++)
                if (latin.TryGetValue(Encoding.Latin1.GetString(tok.Piece(tokens[i])) + Encoding.Latin1.GetString(tok.Piece(tokens[i + 1])), out int id) && tok.Score(id) > best)
                    (best, bestId, bestIndex) = (tok.Score(id), id, i);
            if (bestIndex < 0) break;
            tokens[bestIndex] = bestId;
            tokens.RemoveAt(bestIndex + 1);
        }
        return [.. tokens];
    }

    [AssetFact(Stories260K.Tokenizer, Stories260K.Checkpoint, Stories260K.Sample)]
    public void Fast_merges_equal_run_c_merges()
    {
        var tok = Stories260K.Tok;
        string sample = File.ReadAllText(TestAssets.Path(Stories260K.Sample));
        var rng = new Random(11);
        const string alphabet = "abcdefghijklmnopqrstuvwxyz      .,!?'\"\néü😀";
        for (int trial = 0; trial < 60; trial++)
        {
            string text;
            if (trial % 2 == 0)
            {
                int start = rng.Next(sample.Length - 200);
                text = sample.Substring(start, rng.Next(1, 200));
            }
            else
            {
                var chars = new System.Text.StringBuilder();
                int length = rng.Next(1, 80);
                while (chars.Length < length)
                {
                    int at = rng.Next(alphabet.Length);
                    if (char.IsHighSurrogate(alphabet[at])) chars.Append(alphabet, at, 2);
                    else if (!char.IsLowSurrogate(alphabet[at])) chars.Append(alphabet[at]);
                }
                text = chars.ToString();
            }
            if (char.IsLowSurrogate(text[0]) || char.IsHighSurrogate(text[^1])) continue; // a cut through a surrogate pair
            Assert.Equal(RunCEncode(tok, text), tok.Encode(text));
        }
    }
}
