using System.Globalization;
using Cleave.Models.Preprocessing;

namespace Cleave.Evaluation.Datasets;

/// <summary>
/// Labelled image folders. Two layouts: a <c>labels.csv</c> in the folder (<c>file,label</c> per line, an optional
/// header, label = 0-based class index or a wnid), else file names <c>&lt;wnid&gt;_&lt;name&gt;.JPEG</c> (the
/// imagenet-sample layout) with class = 0-based line of the wnid in the wnid list, so any subset is labelled correctly.
/// </summary>
public static class ImageFolder
{
    public const string LabelsFileName = "labels.csv";

    private static readonly HashSet<string> ImageExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".jpeg", ".jpg", ".png", ".bmp", ".webp", ".gif",
    };

    /// <summary>
    /// Loads the folder's labels.csv when it has one, else labels from file names (needs <paramref name="wnidsFile"/>).
    /// Images come back sorted by file name (ordinal), so "the first N" is reproducible.
    /// </summary>
    public static IReadOnlyList<LabelledImage> Load(string folder, string? wnidsFile)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"image folder '{folder}' does not exist");
        string csv = Path.Combine(folder, LabelsFileName);
        IReadOnlyList<string>? wnids = wnidsFile is null ? null : ReadWnids(wnidsFile);
        var images = File.Exists(csv) ? FromLabelsCsv(csv, folder, wnids) : FromFileNames(folder, wnids
            ?? throw new ArgumentException($"'{folder}' has no {LabelsFileName}: a wnid list is needed to label images by file name"));
        if (images.Count == 0) throw new ArgumentException($"no labelled images in '{folder}'");
        return images;
    }

    /// <summary>Reads a wnid list: one class id per line (blank lines ignored), line j = class j.</summary>
    public static IReadOnlyList<string> ReadWnids(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"wnid list '{path}' does not exist", path);
        var wnids = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string raw in File.ReadLines(path))
        {
            string line = raw.Trim();
            if (line.Length == 0) continue;
            if (!seen.Add(line)) throw new LabelFileException($"{path}: wnid '{line}' is listed twice");
            wnids.Add(line);
        }
        return wnids;
    }

    /// <summary>Images named <c>&lt;wnid&gt;_&lt;anything&gt;</c> whose wnid is in the list; other files are skipped.</summary>
    public static IReadOnlyList<LabelledImage> FromFileNames(string folder, IReadOnlyList<string> wnids)
    {
        var classOf = ClassIndex(wnids);
        var images = new List<LabelledImage>();
        foreach (string path in Directory.GetFiles(folder).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(path);
            if (!ImageExtensions.Contains(Path.GetExtension(name))) continue;
            int underscore = name.IndexOf('_');
            if (underscore <= 0 || !classOf.TryGetValue(name[..underscore], out int cls)) continue;
            images.Add(new LabelledImage(path, cls));
        }
        return images;
    }

    /// <summary>
    /// Parses <c>file,label</c> rows (paths relative to <paramref name="folder"/>). A first row whose label is not a
    /// class is taken as a header; any later bad row (wrong column count, unknown wnid, negative class, missing file,
    /// a file listed twice) throws <see cref="LabelFileException"/> naming the line.
    /// </summary>
    public static IReadOnlyList<LabelledImage> FromLabelsCsv(string csvPath, string folder, IReadOnlyList<string>? wnids)
    {
        var classOf = wnids is null ? null : ClassIndex(wnids);
        var images = new List<LabelledImage>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int lineNumber = 0;
        bool firstRow = true;
        foreach (string raw in File.ReadLines(csvPath))
        {
            lineNumber++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var cells = line.Split(',');
            if (cells.Length != 2)
                throw new LabelFileException($"{csvPath} line {lineNumber}: expected 2 columns (file,label), found {cells.Length}: '{line}'");
            string file = cells[0].Trim().Trim('"'), label = cells[1].Trim().Trim('"');
            bool isFirst = firstRow;
            firstRow = false;
            if (!TryClass(label, classOf, out int cls, out string? why))
            {
                if (isFirst && IsHeader(file, label)) continue;
                throw new LabelFileException($"{csvPath} line {lineNumber}: {why}");
            }
            if (file.Length == 0) throw new LabelFileException($"{csvPath} line {lineNumber}: empty file name");
            string path = Path.GetFullPath(Path.Combine(folder, file));
            if (!File.Exists(path)) throw new LabelFileException($"{csvPath} line {lineNumber}: image '{file}' does not exist in '{folder}'");
            if (!seen.Add(path)) throw new LabelFileException($"{csvPath} line {lineNumber}: image '{file}' is listed twice");
            images.Add(new LabelledImage(path, cls));
        }
        images.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return images;
    }

    private static bool IsHeader(string file, string label) =>
        !file.Contains('.') && label.Length > 0 && !char.IsDigit(label[0]);

    private static bool TryClass(string label, Dictionary<string, int>? classOf, out int cls, out string? why)
    {
        why = null;
        if (int.TryParse(label, NumberStyles.Integer, CultureInfo.InvariantCulture, out cls))
        {
            if (cls >= 0 && (classOf is null || cls < classOf.Count)) return true;
            why = classOf is null ? $"class {cls} is negative" : $"class {cls} is outside 0..{classOf.Count - 1}";
            return false;
        }
        if (classOf is not null && classOf.TryGetValue(label, out cls)) return true;
        why = classOf is null ? $"label '{label}' is not a class index (give a wnid list to use wnids)" : $"label '{label}' is neither a class index nor a known wnid";
        return false;
    }

    private static Dictionary<string, int> ClassIndex(IReadOnlyList<string> wnids)
    {
        var classOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < wnids.Count; i++) classOf[wnids[i]] = i;
        return classOf;
    }
}
