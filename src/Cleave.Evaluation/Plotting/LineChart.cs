using SkiaSharp;

namespace Cleave.Evaluation.Plotting;

/// <summary>
/// One named set of points; connected in order of X when <see cref="Connect"/> is set, with a dashed line when
/// <see cref="Dashed"/> is (reference levels, so a caption can say "the dashed line").
/// </summary>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points, bool Connect = true, bool Dashed = false);

/// <summary>Where a series' legend entry is drawn, in pixels of the rendered image, and its colour (#rrggbb).</summary>
public sealed record LegendEntry(string Text, string Color, bool Dashed, float Left, float Top, float Right, float Bottom);

/// <summary>
/// A small, dependency-light XY chart rendered to PNG with SkiaSharp: axes with round-number ticks (linear or log10),
/// a distinct colour per series (a fixed palette, then hues spread by the golden angle), a legend right of the plot
/// sized to its longest name (the image grows taller when the entries need it; names too long are shortened with an
/// ellipsis), so nothing is cut off. Enough for rate-distortion and accuracy-vs-bytes curves.
/// </summary>
public sealed class LineChart
{
    private static readonly SKColor[] Palette =
    [
        new(0x1f, 0x77, 0xb4), new(0xd6, 0x27, 0x28), new(0x2c, 0xa0, 0x2c), new(0xff, 0x7f, 0x0e), new(0x94, 0x67, 0xbd),
        new(0x8c, 0x56, 0x4b), new(0xe3, 0x77, 0xc2), new(0x7f, 0x7f, 0x7f), new(0xbc, 0xbd, 0x22), new(0x17, 0xbe, 0xcf),
    ];

    private const float Left = 90, Top = 50, Bottom = 70, LegendGap = 20, LegendRow = 22, LegendMarker = 12;
    private const float SmallFontSize = 13, LargeFontSize = 17;

    public string Title { get; init; } = "";
    public string XLabel { get; init; } = "";
    public string YLabel { get; init; } = "";
    public bool LogX { get; init; }
    public bool LogY { get; init; }
    public int Width { get; init; } = 1000;
    public int Height { get; init; } = 640;
    public List<ChartSeries> Series { get; } = [];

    /// <summary>Series i's colour: distinct for every series of a chart.</summary>
    public static SKColor ColorOf(int index) =>
        index < Palette.Length ? Palette[index] : SKColor.FromHsl((float)((index - Palette.Length) * 137.508 % 360), 70, 40);

    /// <summary>The image's height: <see cref="Height"/>, or taller when the legend needs more rows.</summary>
    public int RenderedHeight => (int)Math.Ceiling(Math.Max(Height, Top + LegendGap + Series.Count * LegendRow + Bottom));

    /// <summary>The legend as it will be drawn: every entry inside the image (tests check it; the renderer draws from it).</summary>
    public IReadOnlyList<LegendEntry> Legend()
    {
        using var small = new SKFont(ChartFont.Typeface, SmallFontSize);
        float widest = Series.Count == 0 ? 0 : Series.Max(s => Measure(small, s.Name));
        // The legend takes what its longest name needs, up to 40% of the width; longer names are shortened.
        float legendWidth = Math.Clamp(widest, 60, Width * 0.4f - LegendGap - LegendMarker - 8);
        float textLeft = Width - legendWidth - 8;
        var entries = new List<LegendEntry>(Series.Count);
        for (int i = 0; i < Series.Count; i++)
        {
            string text = Fit(small, Series[i].Name, legendWidth);
            float top = Top + LegendGap + i * LegendRow - LegendRow / 2;
            var c = ColorOf(i);
            entries.Add(new LegendEntry(text, $"#{c.Red:x2}{c.Green:x2}{c.Blue:x2}", Series[i].Dashed, textLeft - LegendMarker - 8, top,
                textLeft + Math.Min(legendWidth, Measure(small, text)), top + LegendRow));
        }
        return entries;
    }

    private static float Measure(SKFont font, string text) => ChartFont.Available ? font.MeasureText(text) : text.Length * SmallFontSize * 0.6f;

    private static string Fit(SKFont font, string text, float width)
    {
        if (Measure(font, text) <= width) return text;
        int keep = text.Length;
        while (keep > 1 && Measure(font, text[..keep] + "…") > width) keep--;
        return text[..keep] + "…";
    }

    public byte[] RenderPng()
    {
        var points = Series.SelectMany(s => s.Points).Where(p => Usable(p.X, LogX) && Usable(p.Y, LogY)).ToList();
        if (points.Count == 0) throw new InvalidOperationException("the chart has no finite points to draw");
        var x = new Axis(points.Min(p => p.X), points.Max(p => p.X), LogX);
        var y = new Axis(points.Min(p => p.Y), points.Max(p => p.Y), LogY);

        var legend = Legend();
        int height = RenderedHeight;
        float right = Width - (legend.Count > 0 ? legend.Min(e => e.Left) - LegendGap : Width - 40);
        float plotW = Width - Left - right, plotH = height - Top - Bottom;
        float Px(double v) => Left + (float)(x.Fraction(v) * plotW);
        float Py(double v) => Top + plotH - (float)(y.Fraction(v) * plotH);

        using var surface = SKSurface.Create(new SKImageInfo(Width, height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var grid = new SKPaint { Color = new SKColor(0xe0, 0xe0, 0xe0), StrokeWidth = 1, IsAntialias = true };
        using var axisPaint = new SKPaint { Color = SKColors.Black, StrokeWidth = 1.5f, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var small = new SKFont(ChartFont.Typeface, SmallFontSize);
        using var large = new SKFont(ChartFont.Typeface, LargeFontSize);
        using var dash = SKPathEffect.CreateDash([8, 5], 0);
        bool hasFont = ChartFont.Available;

        foreach (double t in x.Ticks())
        {
            canvas.DrawLine(Px(t), Top, Px(t), Top + plotH, grid);
            if (hasFont) canvas.DrawText(Axis.Format(t), Px(t), Top + plotH + 18, SKTextAlign.Center, small, text);
        }
        foreach (double t in y.Ticks())
        {
            canvas.DrawLine(Left, Py(t), Left + plotW, Py(t), grid);
            if (hasFont) canvas.DrawText(Axis.Format(t), Left - 8, Py(t) + 4, SKTextAlign.Right, small, text);
        }
        canvas.DrawRect(Left, Top, plotW, plotH, axisPaint);

        canvas.Save();
        canvas.ClipRect(new SKRect(Left, Top, Left + plotW, Top + plotH));
        for (int i = 0; i < Series.Count; i++)
        {
            var color = ColorOf(i);
            using var line = new SKPaint { Color = color, StrokeWidth = 2, IsAntialias = true, Style = SKPaintStyle.Stroke, PathEffect = Series[i].Dashed ? dash : null };
            using var fill = new SKPaint { Color = color, IsAntialias = true, Style = SKPaintStyle.Fill };
            var usable = Series[i].Points.Where(p => Usable(p.X, LogX) && Usable(p.Y, LogY)).OrderBy(p => p.X).ToList();
            if (Series[i].Connect)
                for (int k = 1; k < usable.Count; k++)
                    canvas.DrawLine(Px(usable[k - 1].X), Py(usable[k - 1].Y), Px(usable[k].X), Py(usable[k].Y), line);
            // A dashed reference line is a level, not measured points: no markers on it.
            if (!Series[i].Dashed)
                foreach (var p in usable) DrawMarker(canvas, i, Px(p.X), Py(p.Y), fill);
        }
        canvas.Restore();

        if (hasFont)
        {
            canvas.DrawText(Title, Width / 2f, 30, SKTextAlign.Center, large, text);
            canvas.DrawText(XLabel, Left + plotW / 2, height - 25, SKTextAlign.Center, large, text);
            canvas.Save();
            canvas.RotateDegrees(-90, 25, Top + plotH / 2);
            canvas.DrawText(YLabel, 25, Top + plotH / 2, SKTextAlign.Center, large, text);
            canvas.Restore();
            for (int i = 0; i < legend.Count; i++)
            {
                var e = legend[i];
                float mid = (e.Top + e.Bottom) / 2;
                using var paint = new SKPaint { Color = ColorOf(i), IsAntialias = true, StrokeWidth = 2, PathEffect = e.Dashed ? dash : null };
                if (e.Dashed) canvas.DrawLine(e.Left, mid, e.Left + LegendMarker + 4, mid, paint);
                else DrawMarker(canvas, i, e.Left + LegendMarker / 2, mid, paint);
                canvas.DrawText(e.Text, e.Left + LegendMarker + 8, mid + 4, SKTextAlign.Left, small, text);
            }
        }

        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static bool Usable(double v, bool log) => double.IsFinite(v) && (!log || v > 0);

    private static void DrawMarker(SKCanvas canvas, int shape, float x, float y, SKPaint paint)
    {
        switch (shape % 3)
        {
            case 0: canvas.DrawCircle(x, y, 4, paint); break;
            case 1: canvas.DrawRect(x - 4, y - 4, 8, 8, paint); break;
            default: // a diamond
                canvas.Save();
                canvas.RotateDegrees(45, x, y);
                canvas.DrawRect(x - 3.5f, y - 3.5f, 7, 7, paint);
                canvas.Restore();
                break;
        }
    }

    /// <summary>Maps data values to [0, 1] and proposes round-number ticks.</summary>
    private sealed class Axis
    {
        private readonly double _lo, _hi;
        private readonly bool _log;

        public Axis(double min, double max, bool log)
        {
            _log = log;
            double lo = log ? Math.Log10(min) : min, hi = log ? Math.Log10(max) : max;
            if (hi - lo < 1e-12) { lo -= 0.5; hi += 0.5; }
            double pad = (hi - lo) * 0.05;
            (_lo, _hi) = (lo - pad, hi + pad);
        }

        public double Fraction(double v) => ((_log ? Math.Log10(v) : v) - _lo) / (_hi - _lo);

        public IEnumerable<double> Ticks() => _log ? AxisTicks.Log(_lo, _hi) : AxisTicks.Linear(_lo, _hi);

        public static string Format(double v) =>
            v == 0 ? "0" : Math.Abs(v) >= 1e5 || Math.Abs(v) < 1e-3 ? v.ToString("0.#E+0", System.Globalization.CultureInfo.InvariantCulture)
                : v.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
    }
}
