using System.Text.RegularExpressions;

namespace Cleave.Evaluation.Tests;

/// <summary>Checks on inline SVG charts (shared with the CLI's demo report tests).</summary>
public static partial class SvgAssert
{
    [GeneratedRegex(@"<svg [^>]*width=""(\d+)"" height=""([\d.]+)"" viewBox=""0 0 (\d+) ([\d.]+)""")]
    private static partial Regex SvgSize();

    [GeneratedRegex("""<text ([^>]*)>([^<]*)</text>""")]
    private static partial Regex Text();

    [GeneratedRegex(@"(?:^| )x=""([-\d.]+)""")]
    private static partial Regex X();

    [GeneratedRegex(@"text-anchor=""(start|middle|end)""")]
    private static partial Regex Anchor();

    /// <summary>Every text of an SVG inside its viewBox, by the same width estimate the charts lay out with (0.6 em).</summary>
    public static void TextInside(string svg)
    {
        var size = SvgSize().Match(svg);
        Assert.True(size.Success, "no svg element with width, height and viewBox");
        double width = double.Parse(size.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(width <= 1280, $"the svg is {width} px wide");
        foreach (Match t in Text().Matches(svg))
        {
            // The rotated axis label has no x; everything else is placed by x and its anchor.
            if (X().Match(t.Groups[1].Value) is not { Success: true } xm) continue;
            double x = double.Parse(xm.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            double w = System.Net.WebUtility.HtmlDecode(t.Groups[2].Value).Length * 13 * 0.6;
            (double lo, double hi) = Anchor().Match(t.Groups[1].Value).Groups[1].Value switch { "end" => (x - w, x), "middle" => (x - w / 2, x + w / 2), _ => (x, x + w) };
            Assert.True(lo >= 0 && hi <= width, $"text '{t.Groups[2].Value}' spans {lo:F0}..{hi:F0} of {width}");
        }
    }
}
