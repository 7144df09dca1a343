using System.Globalization;
using System.Text;

namespace Cleave.Evaluation.Sentences;

/// <summary>
/// Uncased BERT strips accents by NFD decomposition and dropping non-spacing marks. The project runs with
/// InvariantGlobalization, where <see cref="string.Normalize()"/> leaves non-ASCII text as it is (so "café" would
/// become [UNK]); this does the same for Latin-1 and Latin Extended-A letters (their canonical decomposition is a
/// base letter plus marks) and drops combining marks (category Mn), which is what the STS data needs. Letters of
/// other scripts keep their accents.
/// </summary>
internal static class AccentFolding
{
    private const char Keep = '-';

    // Base letter of U+00C0..U+017F under NFD, '-' where there is no canonical decomposition (Æ, Ø, ß, Đ, Ł, Œ, ...).
    private const string Latin =
        "AAAAAA-CEEEEIIII" + "-NOOOOO--UUUUY--" + "aaaaaa-ceeeeiiii" + "-nooooo--uuuuy-y" +
        "AaAaAaCcCcCcCcDd" + "--EeEeEeEeEeGgGg" + "GgGgHh--IiIiIiIi" + "I---JjKk-LlLlLl-" +
        "---NnNnNn---OoOo" + "Oo--RrRrRrSsSsSs" + "SsTtTt--UuUuUuUu" + "UuUuWwYyYZzZzZz-";

    public static string Fold(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int i = 0;
        while (i < text.Length && text[i] < 0x80) i++;
        if (i == text.Length) return text; // ASCII: nothing to fold
        var result = new StringBuilder(text.Length).Append(text, 0, i);
        for (; i < text.Length; i++)
        {
            char c = text[i];
            if (c is >= '\u00C0' and <= '\u017F' && Latin[c - 0xC0] != Keep) result.Append(Latin[c - 0xC0]);
            else if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark) result.Append(c);
        }
        return result.ToString();
    }
}
