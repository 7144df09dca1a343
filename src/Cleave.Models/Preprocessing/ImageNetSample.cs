namespace Cleave.Models.Preprocessing;

/// <summary>Top-1/top-5 of a classifier over labelled images.</summary>
public sealed record ClassifierAccuracy(int Images, int Top1Correct, int Top5Correct, TimeSpan Elapsed)
{
    public double Top1 => Images == 0 ? 0 : (double)Top1Correct / Images;
    public double Top5 => Images == 0 ? 0 : (double)Top5Correct / Images;
}

/// <summary>One labelled image: its file and 0-based ImageNet class.</summary>
public sealed record LabelledImage(string Path, int ClassIndex);

/// <summary>
/// The shared ImageNet sample: files named <c>&lt;wnid&gt;_&lt;name&gt;.JPEG</c>, class = line of the wnid in
/// imagenet_wnids.txt; 1001-output models put class c at output c + 1 (output 0 is background).
/// </summary>
public static class ImageNetSample
{
    public static IReadOnlyList<LabelledImage> Load(string imageFolder, string wnidsFile)
    {
        var wnids = File.ReadAllLines(wnidsFile).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        var classOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < wnids.Count; i++) classOf[wnids[i]] = i;
        var images = new List<LabelledImage>();
        foreach (string path in Directory.GetFiles(imageFolder).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(path);
            int underscore = name.IndexOf('_');
            if (underscore <= 0 || !classOf.TryGetValue(name[..underscore], out int cls)) continue;
            images.Add(new LabelledImage(path, cls));
        }
        return images;
    }

    /// <summary>Loads the sample from the shared assets folder (imagenet-sample/ and vision/imagenet_wnids.txt).</summary>
    public static IReadOnlyList<LabelledImage> FromAssets(string assetsRoot) =>
        Load(Path.Combine(assetsRoot, "imagenet-sample"), Path.Combine(assetsRoot, "vision", "imagenet_wnids.txt"));

    /// <summary>Output index of ImageNet class <paramref name="classIndex"/> in a model with <paramref name="outputs"/> classes.</summary>
    public static int OutputIndex(int classIndex, int outputs) => outputs == 1001 ? classIndex + 1 : classIndex;

    /// <summary>Indices of the <paramref name="k"/> largest scores, best first.</summary>
    public static int[] TopK(ReadOnlySpan<float> scores, int k)
    {
        k = Math.Min(k, scores.Length);
        var best = new int[k];
        int filled = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            if (filled == k && scores[i] <= scores[best[k - 1]]) continue;
            int at = filled < k ? filled++ : k - 1;
            while (at > 0 && scores[best[at - 1]] < scores[i]) { best[at] = best[at - 1]; at--; }
            best[at] = i;
        }
        return best;
    }
}
