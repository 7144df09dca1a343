using SkiaSharp;

namespace Cleave.Evaluation.Plotting;

/// <summary>One named set of points; connected in order of X when <see cref="Connect"/> is set.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points, bool Connect = true);

/// <summary>
/// A small, dependency-light XY chart rendered to PNG with SkiaSharp: axes with round-number ticks (linear or log10),
/// one colour and marker per series, a legend. Enough for rate-distortion and accuracy-vs-bytes curves.
/// </summary>
public sealed class LineChart
{
    private static readonly SKColor[] Palette =
    [
        new(0x1f, 0x77, 0xb4), new(0xd6, 0x27, 0x28), new(0x2c, 0xa0, 0x2c), new(0xff, 0x7f, 0x0e), new(0x94, 0x67, 0xbd),
        new(0x8c, 0x56, 0x4b), new(0xe3, 0x77, 0xc2), new(0x7f, 0x7f, 0x7f), new(0xbc, 0xbd, 0x22), new(0x17, 0xbe, 0xcf),
    ];

    public string Title { get; init; } = "";
    public string XLabel { get; init; } = "";
    public string YLabel { get; init; } = "";
    public bool LogX { get; init; }
    public bool LogY { get; init; }
    public int Width { get; init; } = 1000;
    public int Height { get; init; } = 640;
    public List<ChartSeries> Series { get; } = [];

    public byte[] RenderPng()
    {
        var points = Series.SelectMany(s => s.Points).Where(p => Usable(p.X, LogX) && Usable(p.Y, LogY)).ToList();
        if (points.Count == 0) throw new InvalidOperationException("the chart has no finite points to draw");
        var x = new Axis(points.Min(p => p.X), points.Max(p => p.X), LogX);
        var y = new Axis(points.Min(p => p.Y), points.Max(p => p.Y), LogY);

        const float left = 90, right = 260, top = 50, bottom = 70;
        float plotW = Width - left - right, plotH = Height - top - bottom;
        float Px(double v) => left + (float)(x.Fraction(v) * plotW);
        float Py(double v) => top + plotH - (float)(y.Fraction(v) * plotH);

        using var surface = SKSurface.Create(new SKImageInfo(Width, Height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var grid = new SKPaint { Color = new SKColor(0xe0, 0xe0, 0xe0), StrokeWidth = 1, IsAntialias = true };
        using var axisPaint = new SKPaint { Color = SKColors.Black, StrokeWidth = 1.5f, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var small = new SKFont(ChartFont.Typeface, 13);
        using var large = new SKFont(ChartFont.Typeface, 17);
        bool hasFont = ChartFont.Available;

        foreach (double t in x.Ticks())
        {
            canvas.DrawLine(Px(t), top, Px(t), top + plotH, grid);
            if (hasFont) canvas.DrawText(Axis.Format(t), Px(t), top + plotH + 18, SKTextAlign.Center, small, text);
        }
        foreach (double t in y.Ticks())
        {
            canvas.DrawLine(left, Py(t), left + plotW, Py(t), grid);
            if (hasFont) canvas.DrawText(Axis.Format(t), left - 8, Py(t) + 4, SKTextAlign.Right, small, text);
        }
        canvas.DrawRect(left, top, plotW, plotH, axisPaint);

        canvas.Save();
        canvas.ClipRect(new SKRect(left, top, left + plotW, top + plotH));
        for (int i = 0; i < Series.Count; i++)
        {
            var color = Palette[i % Palette.Length];
            using var line = new SKPaint { Color = color, StrokeWidth = 2, IsAntialias = true, Style = SKPaintStyle.Stroke };
            using var fill = new SKPaint { Color = color, IsAntialias = true, Style = SKPaintStyle.Fill };
            var usable = Series[i].Points.Where(p => Usable(p.X, LogX) && Usable(p.Y, LogY)).OrderBy(p => p.X).ToList();
            if (Series[i].Connect)
                for (int k = 1; k < usable.Count; k++)
                    canvas.DrawLine(Px(usable[k - 1].X), Py(usable[k - 1].Y), Px(usable[k].X), Py(usable[k].Y), line);
            foreach (var p in usable) DrawMarker(canvas, i / Palette.Length, Px(p.X), Py(p.Y), fill);
        }
        canvas.Restore();

        if (hasFont)
        {
            canvas.DrawText(Title, Width / 2f, 30, SKTextAlign.Center, large, text);
            canvas.DrawText(XLabel, left + plotW / 2, Height - 25, SKTextAlign.Center, large, text);
            canvas.Save();
            canvas.RotateDegrees(-90, 25, top + plotH / 2);
            canvas.DrawText(YLabel, 25, top + plotH / 2, SKTextAlign.Center, large, text);
            canvas.Restore();
            for (int i = 0; i < Series.Count; i++)
            {
                float ly = top + 20 + i * 22;
                using var fill = new SKPaint { Color = Palette[i % Palette.Length], IsAntialias = true };
                DrawMarker(canvas, i / Palette.Length, left + plotW + 20, ly - 4, fill);
                canvas.DrawText(Series[i].Name, left + plotW + 32, ly, SKTextAlign.Left, small, text);
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

        public IEnumerable<double> Ticks()
        {
            if (_log)
            {
                double decades = _hi - _lo;
                double[] mantissas = decades > 4 ? [1] : decades > 1.5 ? [1, 3] : [1, 2, 5];
                for (int e = (int)Math.Floor(_lo); e <= (int)Math.Ceiling(_hi); e++)
                    foreach (double m in mantissas)
                    {
                        double v = m * Math.Pow(10, e);
                        double l = Math.Log10(v);
                        if (l >= _lo && l <= _hi) yield return v;
                    }
                yield break;
            }
            double raw = (_hi - _lo) / 6;
            double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
            double step = magnitude * (raw / magnitude < 1.5 ? 1 : raw / magnitude < 3.5 ? 2 : raw / magnitude < 7.5 ? 5 : 10);
            for (double t = Math.Ceiling(_lo / step) * step; t <= _hi + 1e-9 * step; t += step)
                yield return Math.Abs(t) < step * 1e-9 ? 0 : t;
        }

        public static string Format(double v) =>
            v == 0 ? "0" : Math.Abs(v) >= 1e5 || Math.Abs(v) < 1e-3 ? v.ToString("0.#E+0", System.Globalization.CultureInfo.InvariantCulture)
                : v.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
    }
}
