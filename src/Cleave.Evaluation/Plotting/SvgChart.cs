using System.Globalization;
using System.Net;
using System.Text;

namespace Cleave.Evaluation.Plotting;

/// <summary>One labelled point of an <see cref="SvgChart.Scatter"/>.</summary>
public sealed record SvgPoint(string Label, double X, double Y);

/// <summary>One bar of an <see cref="SvgChart.StackedBars"/>: its label and its parts, in the order of the part names.</summary>
public sealed record SvgBar(string Label, IReadOnlyList<double> Parts);

/// <summary>
/// Inline SVG charts for self-contained HTML pages (no scripts, no image files, text stays text): a labelled scatter
/// on a log or linear x axis with an optional dashed reference level, and horizontal stacked bars. Fixed width
/// (<see cref="Width"/>, within a 1280 px window), height from the content, the legend inside the drawing, a distinct
/// colour per series or part (<see cref="LineChart.ColorOf"/>). Text is measured approximately (0.6 em per character),
/// so labels get room to spare rather than being clipped.
/// </summary>
public static class SvgChart
{
    public const int Width = 960;
    private const double FontSize = 13, CharWidth = FontSize * 0.6, Left = 70, Right = 30, Top = 40;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Each point a marker (class "point") with its label beside it; <paramref name="level"/> a dashed horizontal line.</summary>
    public static string Scatter(string title, string xLabel, string yLabel, IReadOnlyList<SvgPoint> points, bool logX, (string Label, double Y)? level = null)
    {
        ArgumentNullException.ThrowIfNull(points);
        var usable = points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y) && (!logX || p.X > 0)).ToList();
        if (usable.Count == 0) throw new ArgumentException("no finite points to draw", nameof(points));
        const double height = 420, bottom = 60;
        double right = Right;
        double plotW = Width - Left - right, plotH = height - Top - bottom;
        double Fx(double x) => logX ? Math.Log10(x) : x;
        double xLo = usable.Min(p => Fx(p.X)), xHi = usable.Max(p => Fx(p.X));
        var ys = usable.Select(p => p.Y).Concat(level is { } l ? [l.Y] : []).ToList();
        double yLo = ys.Min(), yHi = ys.Max();
        Pad(ref xLo, ref xHi, logX ? 0.15 : 0.08);
        Pad(ref yLo, ref yHi, 0.12);
        double Px(double x) => Left + (Fx(x) - xLo) / (xHi - xLo) * plotW;
        double Py(double y) => Top + plotH - (y - yLo) / (yHi - yLo) * plotH;

        var s = Open(height, title);
        s.Append(Inv, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{N(plotW)}\" height=\"{N(plotH)}\" fill=\"none\" stroke=\"#000\"/>\n");
        foreach (double t in logX ? AxisTicks.Log(xLo, xHi) : AxisTicks.Linear(xLo, xHi))
        {
            double x = Px(t);
            s.Append(Inv, $"<line x1=\"{N(x)}\" y1=\"{Top}\" x2=\"{N(x)}\" y2=\"{N(Top + plotH)}\" stroke=\"#e0e0e0\"/>")
             .Append(Inv, $"<text x=\"{N(x)}\" y=\"{N(Top + plotH + 16)}\" text-anchor=\"middle\">{E(Tick(t))}</text>\n");
        }
        foreach (double t in AxisTicks.Linear(yLo, yHi))
            s.Append(Inv, $"<line x1=\"{Left}\" y1=\"{N(Py(t))}\" x2=\"{N(Left + plotW)}\" y2=\"{N(Py(t))}\" stroke=\"#e0e0e0\"/>")
             .Append(Inv, $"<text x=\"{Left - 6}\" y=\"{N(Py(t) + 4)}\" text-anchor=\"end\">{E(Tick(t))}</text>\n");
        if (level is { } reference)
        {
            s.Append(Inv, $"<line class=\"level\" x1=\"{Left}\" y1=\"{N(Py(reference.Y))}\" x2=\"{N(Left + plotW)}\" y2=\"{N(Py(reference.Y))}\" stroke=\"#555\" stroke-width=\"1.5\" stroke-dasharray=\"7 5\"/>")
             .Append(Inv, $"<text x=\"{N(Left + plotW - 6)}\" y=\"{N(Py(reference.Y) - 8)}\" text-anchor=\"end\" fill=\"#555\">{E(reference.Label)}</text>\n");
        }
        for (int i = 0; i < usable.Count; i++)
        {
            var p = usable[i];
            string color = Hex(i);
            // The label goes under the marker (the level's label is above its line) and towards the middle of the
            // plot, so it never runs past the drawing's edge.
            bool rightHalf = Px(p.X) > Left + plotW / 2;
            string label = Shorten(p.Label, (int)(plotW / 2 / CharWidth) - 2);
            s.Append(Inv, $"<circle class=\"point\" cx=\"{N(Px(p.X))}\" cy=\"{N(Py(p.Y))}\" r=\"6\" fill=\"{color}\"><title>{E(p.Label)}</title></circle>")
             .Append(Inv, $"<text x=\"{N(Px(p.X) + (rightHalf ? 4 : -4))}\" y=\"{N(Py(p.Y) + 22)}\" text-anchor=\"{(rightHalf ? "end" : "start")}\" fill=\"{color}\">{E(label)}</text>\n");
        }
        s.Append(Inv, $"<text x=\"{N(Left + plotW / 2)}\" y=\"{N(height - 20)}\" text-anchor=\"middle\">{E(xLabel)}</text>\n");
        s.Append(Inv, $"<text transform=\"translate(18 {N(Top + plotH / 2)}) rotate(-90)\" text-anchor=\"middle\">{E(yLabel)}</text>\n");
        return s.Append("</svg>\n").ToString();
    }

    /// <summary>One horizontal bar per <paramref name="bars"/> entry, its parts stacked left to right (class "part"), a legend of the part names below.</summary>
    public static string StackedBars(string title, string unit, IReadOnlyList<string> partNames, IReadOnlyList<SvgBar> bars)
    {
        ArgumentNullException.ThrowIfNull(partNames);
        ArgumentNullException.ThrowIfNull(bars);
        if (bars.Any(b => b.Parts.Count != partNames.Count)) throw new ArgumentException("every bar needs one value per part name", nameof(bars));
        const int labelChars = 26;
        double labelWidth = Math.Min(labelChars, bars.Max(b => b.Label.Length)) * CharWidth + 12;
        double left = Math.Max(Left, labelWidth), right = Right + 70; // room for the total after the bar
        double plotW = Width - left - right, barH = 34, gap = 16;
        double plotH = bars.Count * (barH + gap) + gap;
        // The legend wraps into rows inside the width.
        var legendRows = new List<List<(int Part, double X)>> { new() };
        double lx = left;
        for (int i = 0; i < partNames.Count; i++)
        {
            double w = 18 + partNames[i].Length * CharWidth + 18;
            if (lx + w > Width - Right && legendRows[^1].Count > 0) { legendRows.Add([]); lx = left; }
            legendRows[^1].Add((i, lx));
            lx += w;
        }
        double axisY = Top + plotH, legendTop = axisY + 64;
        double height = legendTop + legendRows.Count * 22 + 10;
        double max = Math.Max(1e-9, bars.Max(b => b.Parts.Where(v => v > 0).Sum()));
        double Scale(double v) => v / max * plotW;

        var s = Open(height, title);
        foreach (double t in AxisTicks.Linear(0, max))
            s.Append(Inv, $"<line x1=\"{N(left + Scale(t))}\" y1=\"{Top}\" x2=\"{N(left + Scale(t))}\" y2=\"{N(axisY)}\" stroke=\"#e0e0e0\"/>")
             .Append(Inv, $"<text x=\"{N(left + Scale(t))}\" y=\"{N(axisY + 16)}\" text-anchor=\"middle\">{E(Tick(t))}</text>\n");
        s.Append(Inv, $"<text x=\"{N(left + plotW / 2)}\" y=\"{N(axisY + 36)}\" text-anchor=\"middle\">{E(unit)}</text>\n");
        for (int b = 0; b < bars.Count; b++)
        {
            double y = Top + gap + b * (barH + gap), x = left;
            s.Append(Inv, $"<text x=\"{N(left - 8)}\" y=\"{N(y + barH / 2 + 4)}\" text-anchor=\"end\">{E(Shorten(bars[b].Label, labelChars))}</text>\n");
            for (int i = 0; i < partNames.Count; i++)
            {
                double v = Math.Max(0, bars[b].Parts[i]);
                if (v == 0) continue;
                s.Append(Inv, $"<rect class=\"part\" x=\"{N(x)}\" y=\"{N(y)}\" width=\"{N(Scale(v))}\" height=\"{barH}\" fill=\"{Hex(i)}\">")
                 .Append(Inv, $"<title>{E(bars[b].Label)}: {E(partNames[i])} {v.ToString("0.0", Inv)} {E(unit)}</title></rect>\n");
                x += Scale(v);
            }
            s.Append(Inv, $"<text x=\"{N(x + 6)}\" y=\"{N(y + barH / 2 + 4)}\">{bars[b].Parts.Where(v => v > 0).Sum().ToString("0.0", Inv)}</text>\n");
        }
        for (int r = 0; r < legendRows.Count; r++)
            foreach (var (part, x) in legendRows[r])
            {
                double y = legendTop + r * 22;
                s.Append(Inv, $"<g class=\"legend\"><rect x=\"{N(x)}\" y=\"{N(y - 10)}\" width=\"12\" height=\"12\" fill=\"{Hex(part)}\"/>")
                 .Append(Inv, $"<text x=\"{N(x + 18)}\" y=\"{N(y)}\">{E(partNames[part])}</text></g>\n");
            }
        return s.Append("</svg>\n").ToString();
    }

    private static StringBuilder Open(double height, string title) => new StringBuilder()
        .Append(Inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{N(height)}\" viewBox=\"0 0 {Width} {N(height)}\" ")
        .Append(Inv, $"font-family=\"sans-serif\" font-size=\"{FontSize}\" role=\"img\" aria-label=\"{E(title)}\">\n")
        .Append(Inv, $"<text x=\"{Width / 2}\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">{E(title)}</text>\n");

    private static string Hex(int i)
    {
        var c = LineChart.ColorOf(i);
        return $"#{c.Red:x2}{c.Green:x2}{c.Blue:x2}";
    }

    private static void Pad(ref double lo, ref double hi, double fraction)
    {
        if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
        double pad = (hi - lo) * fraction;
        lo -= pad;
        hi += pad;
    }

    private static string Tick(double v) =>
        Math.Abs(v) >= 1e6 ? (v / 1e6).ToString("0.#", Inv) + "M" : Math.Abs(v) >= 1e3 ? (v / 1e3).ToString("0.#", Inv) + "k" : v.ToString("0.##", Inv);

    private static string Shorten(string text, int chars) => text.Length <= chars ? text : text[..Math.Max(1, chars - 1)] + "…";

    private static string N(double v) => v.ToString("0.#", Inv);

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
