using Cleave.Codecs.Quantization;

namespace Cleave.Codecs;

/// <summary>
/// Each plane's mean, sent in a layout-2 header when the frame has plane groups (K &gt; 1), so that a group whose planes
/// have no intact row left is concealed by the planes' means (modes <c>mean</c> and <c>interp</c>) instead of 0
/// (docs/format.md, "Layout 2"). Why: with whole channels per group (the smallest layout-2 frames) a lost group has
/// nothing in its planes to interpolate from. Wire form: one code per plane, the mean in half steps of the shared grid,
/// u = round(2·(mean / scale + zero point)) clamped to 0 .. min(2·(L − 1), 255); 4 bits each (low nibble first, an odd
/// last nibble padded with 0) when 2·(L − 1) ≤ 15, else a byte each.
/// </summary>
internal static class PlaneMeans
{
    /// <summary>Most planes whose means a header carries; frames with more send none.</summary>
    public const int MaxPlanes = 4096;

    public static int Top(int levels) => Math.Min(2 * (levels - 1), 255);

    public static int Size(int planes, int levels) => Top(levels) <= 15 ? (planes + 1) / 2 : planes;

    public static byte[] Write(ReadOnlySpan<float> values, GroupGrid grid, QuantizationParameters quantization, int levels)
    {
        if (grid.PlaneGroups <= 1 || grid.Planes > MaxPlanes || values.IsEmpty) return [];
        int top = Top(levels), planeSize = grid.Height * grid.Width;
        var bytes = new byte[Size(grid.Planes, levels)];
        for (int p = 0; p < grid.Planes; p++)
        {
            double sum = 0;
            int count = 0;
            foreach (float v in values.Slice(p * planeSize, planeSize))
                if (float.IsFinite(v)) { sum += v; count++; }
            double mean = count == 0 ? 0 : sum / count;
            int code = (int)Math.Clamp(Math.Round(2 * (mean / quantization.Scale + quantization.ZeroPoint)), 0, top);
            if (top <= 15) bytes[p >> 1] |= (byte)(code << (4 * (p & 1)));
            else bytes[p] = (byte)code;
        }
        return bytes;
    }

    /// <summary>The planes' means from exactly <paramref name="source"/> (<see cref="Size"/> bytes for <paramref name="planes"/>).</summary>
    public static float[] Read(ReadOnlySpan<byte> source, int planes, QuantizationParameters quantization, int levels)
    {
        int top = Top(levels);
        if (top <= 15 && (planes & 1) == 1 && source[^1] >> 4 != 0)
            throw new FrameFormatException(FrameError.CorruptPayload, "the plane means' pad nibble is not 0");
        var means = new float[planes];
        for (int p = 0; p < planes; p++)
        {
            int code = top <= 15 ? source[p >> 1] >> (4 * (p & 1)) & 0xF : source[p];
            if (code > top)
                throw new FrameFormatException(FrameError.BadParameters, $"plane {p}'s mean code {code} is beyond {top} half steps");
            means[p] = (float)((code / 2.0 - quantization.ZeroPoint) * quantization.Scale);
        }
        return means;
    }
}
