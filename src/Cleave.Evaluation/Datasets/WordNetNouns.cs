using System.Globalization;

namespace Cleave.Evaluation.Datasets;

/// <summary>
/// The noun hierarchy of WordNet 3.0 read from its <c>data.noun</c> file (Debian's <c>wordnet-base</c> puts it in
/// /usr/share/wordnet): for each synset its offset, first lemma and hypernyms (<c>@</c> and instance <c>@i</c>
/// pointers). An ImageNet wnid <c>n01440764</c> is the noun synset at offset 01440764.
/// </summary>
public sealed class WordNetNouns
{
    public const string DefaultPath = "/usr/share/wordnet/data.noun";

    // WordNet's noun hierarchy is about 20 deep; a chain longer than this is a cycle in a corrupt file.
    private const int MaxDepth = 64;

    private readonly Dictionary<long, (string Lemma, long[] Hypernyms)> _synsets;

    private WordNetNouns(Dictionary<long, (string, long[])> synsets) => _synsets = synsets;

    public int Count => _synsets.Count;

    public static WordNetNouns Load(string path = DefaultPath)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"WordNet noun data '{path}' does not exist (install Debian's wordnet-base)", path);
        var synsets = new Dictionary<long, (string, long[])>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path, System.Text.Encoding.Latin1))
        {
            lineNumber++;
            if (line.Length == 0 || line[0] == ' ') continue; // the licence header lines start with two spaces
            try { var (offset, entry) = ParseLine(line); synsets[offset] = entry; }
            catch (Exception e) when (e is FormatException or IndexOutOfRangeException or OverflowException or ArgumentOutOfRangeException)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: not a WordNet data line ({e.Message})", e);
            }
        }
        return new WordNetNouns(synsets);
    }

    /// <summary>One data line: <c>offset lex_filenum ss_type w_cnt(hex) word lex_id ... p_cnt {symbol offset pos source/target} ... | gloss</c>.</summary>
    private static (long Offset, (string Lemma, long[] Hypernyms) Entry) ParseLine(string line)
    {
        var fields = line.Split(' ');
        long offset = long.Parse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture);
        int words = int.Parse(fields[3], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        string lemma = fields[4];
        int at = 4 + 2 * words;
        int pointers = int.Parse(fields[at++], NumberStyles.None, CultureInfo.InvariantCulture);
        var hypernyms = new List<long>();
        for (int p = 0; p < pointers; p++, at += 4)
            if (fields[at] is "@" or "@i" && fields[at + 2] == "n")
                hypernyms.Add(long.Parse(fields[at + 1], NumberStyles.None, CultureInfo.InvariantCulture));
        return (offset, (lemma, hypernyms.ToArray()));
    }

    /// <summary>The noun synset of an ImageNet wnid ("n01440764" -> 1440764).</summary>
    public static long OffsetOf(string wnid)
    {
        if (wnid.Length != 9 || wnid[0] != 'n' || !long.TryParse(wnid.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out long offset))
            throw new ArgumentException($"'{wnid}' is not a WordNet noun id (n + 8 digits)");
        return offset;
    }

    public string Lemma(long offset) => Entry(offset).Lemma;

    /// <summary>
    /// The path from the root (entity) down to <paramref name="offset"/>, following the first hypernym at each step
    /// (WordNet lists a synset's main parent first), so that every class has exactly one category at each depth.
    /// </summary>
    public IReadOnlyList<long> PathFromRoot(long offset)
    {
        var path = new List<long> { offset };
        for (long at = offset; Entry(at).Hypernyms is { Length: > 0 } up; at = up[0])
        {
            if (path.Count > MaxDepth) throw new InvalidDataException($"WordNet synset {offset:D8}: hypernym chain longer than {MaxDepth} (a cycle?)");
            path.Add(up[0]);
        }
        path.Reverse();
        return path;
    }

    /// <summary>The hypernym of <paramref name="offset"/> at <paramref name="depth"/> (0 = the root), or the synset itself when it is shallower.</summary>
    public long AncestorAtDepth(long offset, int depth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        var path = PathFromRoot(offset);
        return path[Math.Min(depth, path.Count - 1)];
    }

    private (string Lemma, long[] Hypernyms) Entry(long offset) =>
        _synsets.TryGetValue(offset, out var entry) ? entry : throw new KeyNotFoundException($"WordNet has no noun synset {offset:D8}");
}
