using System.Diagnostics;

namespace Cleave.Models.Preprocessing;

/// <summary>Top-1/top-5 of a whole image classifier over labelled image files (<see cref="ImageNetSample"/>).</summary>
public static class ImageNetAccuracy
{
    /// <summary>Classifies every image (decode, preprocess per the model's spec, run in batches) and scores top-1/top-5.</summary>
    public static ClassifierAccuracy Measure(ImageModelSession session, IReadOnlyList<LabelledImage> images, int batchSize = 16,
        IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(images);
        var clock = Stopwatch.StartNew();
        int top1 = 0, top5 = 0, done = 0;
        batchSize = Math.Max(1, Math.Min(batchSize, session.MaxBatch));
        for (int start = 0; start < images.Count; start += batchSize)
        {
            var batch = images.Skip(start).Take(batchSize).ToList();
            var decoded = batch.Select(i => RgbImage.Load(i.Path)).ToList();
            var outputs = session.RunBatch(decoded);
            for (int i = 0; i < batch.Count; i++)
            {
                int label = ImageNetSample.OutputIndex(batch[i].ClassIndex, outputs[i].Length);
                var best = ImageNetSample.TopK(outputs[i], 5);
                if (best[0] == label) top1++;
                if (Array.IndexOf(best, label) >= 0) top5++;
            }
            done += batch.Count;
            progress?.Report(done);
        }
        return new ClassifierAccuracy(images.Count, top1, top5, clock.Elapsed);
    }
}
