using SkiaSharp;

namespace Cleave.Evaluation.Plotting;

/// <summary>
/// Finds a typeface for chart labels. The SkiaSharp native build used here has no fontconfig (so it loads on a bare
/// machine), which also means no default font: look for a TrueType file on disk instead. CLEAVE_FONT overrides.
/// Without any font, charts are still drawn, without text, and <see cref="Available"/> says so.
/// </summary>
public static class ChartFont
{
    private static readonly Lazy<SKTypeface?> Cached = new(Find);

    public static SKTypeface? Typeface => Cached.Value;
    public static bool Available => Typeface is not null;

    private static SKTypeface? Find()
    {
        var candidates = new List<string>();
        string? custom = Environment.GetEnvironmentVariable("CLEAVE_FONT");
        if (!string.IsNullOrEmpty(custom)) candidates.Add(custom);
        candidates.Add("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
        foreach (string root in new[] { "/usr/share/fonts", "/usr/local/share/fonts", "/System/Library/Fonts", @"C:\Windows\Fonts" })
        {
            if (!Directory.Exists(root)) continue;
            try { candidates.AddRange(Directory.EnumerateFiles(root, "*.ttf", SearchOption.AllDirectories).Order(StringComparer.Ordinal)); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        foreach (string path in candidates)
        {
            if (!File.Exists(path)) continue;
            var typeface = SKTypeface.FromFile(path);
            if (typeface is not null && typeface.GlyphCount > 0) return typeface;
        }
        return null;
    }
}
