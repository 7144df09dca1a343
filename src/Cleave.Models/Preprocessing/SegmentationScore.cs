namespace Cleave.Models.Preprocessing;

/// <summary>Intersection-over-union of a predicted label map against a ground-truth one, per class and averaged.</summary>
public sealed record SegmentationScore(IReadOnlyDictionary<int, double> ClassIoU, double MeanIoU, double PixelAccuracy)
{
    /// <summary>
    /// Compares label maps of equal size. The mean runs over the classes present in either map (a class absent from
    /// both says nothing); labels in <paramref name="ignoreLabels"/> (e.g. 255 borders in PASCAL VOC) are skipped.
    /// </summary>
    public static SegmentationScore Compute(ReadOnlySpan<int> predicted, ReadOnlySpan<int> truth, params int[] ignoreLabels)
    {
        if (predicted.Length != truth.Length)
            throw new ArgumentException($"prediction has {predicted.Length} pixels, ground truth {truth.Length}");
        var intersection = new Dictionary<int, long>();
        var union = new Dictionary<int, long>();
        long correct = 0, counted = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            int t = truth[i], p = predicted[i];
            if (Array.IndexOf(ignoreLabels, t) >= 0) continue;
            counted++;
            if (t == p)
            {
                correct++;
                intersection[t] = intersection.GetValueOrDefault(t) + 1;
                union[t] = union.GetValueOrDefault(t) + 1;
            }
            else
            {
                union[t] = union.GetValueOrDefault(t) + 1;
                union[p] = union.GetValueOrDefault(p) + 1;
            }
        }
        var iou = new SortedDictionary<int, double>();
        foreach (var (label, u) in union) iou[label] = (double)intersection.GetValueOrDefault(label) / u;
        double mean = iou.Count == 0 ? 0 : iou.Values.Average();
        return new SegmentationScore(iou, mean, counted == 0 ? 0 : (double)correct / counted);
    }
}
