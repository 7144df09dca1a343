namespace Cleave.Codecs;

/// <summary>Fills the groups a resilient decoder could not decode (<see cref="ConcealmentMode"/>) from the ones it could.</summary>
internal static class Concealment
{
    /// <param name="planeMeans">Each plane's sent mean (layout 2 with plane groups), used for a plane with no intact row; empty: 0.</param>
    public static void Fill(GroupGrid grid, ReadOnlySpan<bool> intact, IReadOnlyList<int> concealed, Span<float> tensor, ConcealmentMode mode,
        ReadOnlySpan<float> planeMeans = default)
    {
        int width = grid.Width, height = grid.Height;
        if (tensor.Length == 0) return;
        foreach (int g in concealed)
        {
            var (p0, pc) = grid.PlaneRun(g);
            var (h0, hc) = grid.RowRun(g);
            int block = g % grid.RowBlocks, rowGroup = g - block;
            // The nearest intact rows above and below the lost run, in the same planes (-1 / height: none).
            int above = -1, below = height;
            for (int b = block - 1; b >= 0 && above < 0; b--)
                if (intact[rowGroup + b]) above = GroupGrid.Start(height, grid.RowBlocks, b + 1) - 1;
            for (int b = block + 1; b < grid.RowBlocks && below == height; b++)
                if (intact[rowGroup + b]) below = GroupGrid.Start(height, grid.RowBlocks, b);
            for (int p = p0; p < p0 + pc; p++)
            {
                var plane = tensor.Slice(p * height * width, height * width);
                if (mode == ConcealmentMode.Zero)
                {
                    plane.Slice(h0 * width, hc * width).Clear();
                    continue;
                }
                if (mode == ConcealmentMode.Interpolate && (above >= 0 || below < height))
                {
                    for (int h = h0; h < h0 + hc; h++)
                    {
                        var row = plane.Slice(h * width, width);
                        if (above < 0) plane.Slice(below * width, width).CopyTo(row);
                        else if (below >= height) plane.Slice(above * width, width).CopyTo(row);
                        else
                        {
                            float t = (float)(h - above) / (below - above);
                            var up = plane.Slice(above * width, width);
                            var down = plane.Slice(below * width, width);
                            for (int x = 0; x < width; x++) row[x] = up[x] + t * (down[x] - up[x]);
                        }
                    }
                    continue;
                }
                plane.Slice(h0 * width, hc * width).Fill(IntactMean(grid, intact, rowGroup, plane, planeMeans.IsEmpty ? 0f : planeMeans[p]));
            }
        }
    }

    /// <summary>The mean of a plane's rows that arrived intact; <paramref name="none"/> when none did.</summary>
    private static float IntactMean(GroupGrid grid, ReadOnlySpan<bool> intact, int rowGroup, ReadOnlySpan<float> plane, float none)
    {
        double sum = 0;
        long count = 0;
        for (int b = 0; b < grid.RowBlocks; b++)
        {
            if (!intact[rowGroup + b]) continue;
            int first = GroupGrid.Start(grid.Height, grid.RowBlocks, b), end = GroupGrid.Start(grid.Height, grid.RowBlocks, b + 1);
            foreach (float v in plane.Slice(first * grid.Width, (end - first) * grid.Width)) sum += v;
            count += (long)(end - first) * grid.Width;
        }
        return count == 0 ? none : (float)(sum / count);
    }
}
