using System.Text.RegularExpressions;

namespace Cleave.Evaluation.Studies;

/// <summary>A named family of codec settings: one curve in a rate-distortion plot.</summary>
public sealed record CodecFamily(string Label, IReadOnlyList<string> Specs);

/// <summary>
/// Parses sweep lists like <c>quant+rANS=quant:bits={2,3,4,6,8},entropy=rans;fp16</c>: families separated by ';', an
/// optional <c>label=</c> prefix (label without ':'), and <c>{a,b,c}</c> groups expanded into one spec per value
/// (several groups expand as a cross product).
/// </summary>
public static partial class CodecSweepSpec
{
    public static IReadOnlyList<CodecFamily> Parse(string text)
    {
        var families = new List<CodecFamily>();
        foreach (string part in SplitTopLevel(text))
        {
            string label, template;
            int eq = part.IndexOf('=');
            int colon = part.IndexOf(':');
            if (eq > 0 && (colon < 0 || eq < colon)) { label = part[..eq].Trim(); template = part[(eq + 1)..].Trim(); }
            else { label = part.Trim(); template = label; }
            if (template.Length == 0) throw new ArgumentException($"codec family '{part}' has no spec");
            families.Add(new CodecFamily(label, Expand(template)));
        }
        if (families.Count == 0) throw new ArgumentException("no codec given");
        return families;
    }

    public static IReadOnlyList<string> Expand(string template)
    {
        var match = Group().Match(template);
        if (!match.Success) return [template];
        var result = new List<string>();
        foreach (string option in match.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries))
            result.AddRange(Expand(template[..match.Index] + option + template[(match.Index + match.Length)..]));
        return result;
    }

    /// <summary>Splits on ';' outside braces.</summary>
    private static IEnumerable<string> SplitTopLevel(string text)
    {
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '{') depth++;
            else if (text[i] == '}') depth--;
            else if (text[i] == ';' && depth == 0)
            {
                if (i > start && text[start..i].Trim().Length > 0) yield return text[start..i];
                start = i + 1;
            }
        }
        if (start < text.Length && text[start..].Trim().Length > 0) yield return text[start..];
    }

    [GeneratedRegex(@"\{([^{}]*)\}")]
    private static partial Regex Group();
}
