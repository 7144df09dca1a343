using Cleave.Cli.Infrastructure;
using Cleave.Evaluation.Datasets;
using Cleave.Models;
using Cleave.Models.Preprocessing;

namespace Cleave.Cli.Commands;

/// <summary>Options <c>eval</c> and <c>sweep</c> share: the labelled images and how they become model input.</summary>
internal static class ClassificationDataOptions
{
    public static readonly string[] ValueOptions = ["model", "data", "labels", "preprocess", "limit", "assets"];

    public const string Help =
        "  --model M.onnx      an image classifier; its preprocessing is read from the model (`cleave import` records it)\n" +
        "  --data DIR          labelled images: DIR/labels.csv (file,label; label = class index or wnid) or files named <wnid>_<name>.JPEG\n" +
        "  --labels FILE       the wnid list giving class indices (default: <assets>/vision/imagenet_wnids.txt)\n" +
        "  --preprocess SPEC   override the model's preprocessing: size=224,crop=0.875,mean=127.5,scale=0.0078125,layout=NCHW,order=RGB\n" +
        "  --limit N           only the first N images (in name order)";

    public static (IReadOnlyList<LabelledImage> Images, PreprocessingSpec Spec) Load(CommandLine cl)
    {
        string model = cl.Require("model");
        string data = cl.Require("data");
        int limit = cl.GetInt("limit", int.MaxValue);
        if (limit <= 0) throw new UsageException("--limit must be positive");
        string? wnids = Wnids(cl);
        PreprocessingSpec spec;
        try { spec = PreprocessingOverride.ForModel(model, cl.Get("preprocess")); }
        catch (FormatException e) { throw new UsageException($"--preprocess: {e.Message}"); }
        var images = ImageFolder.Load(data, wnids);
        return (images.Count > limit ? [.. images.Take(limit)] : images, spec);
    }

    /// <summary>Another labelled folder read with the same class list (evaluation images beside training ones).</summary>
    public static IReadOnlyList<LabelledImage> LoadFolder(CommandLine cl, string folder) => ImageFolder.Load(folder, Wnids(cl));

    private static string? Wnids(CommandLine cl)
    {
        string? wnids = cl.Get("labels");
        if (wnids is null)
        {
            try { wnids = Path.Combine(AssetLocator.Resolve(cl.Get("assets")), "vision", "imagenet_wnids.txt"); }
            catch (DirectoryNotFoundException) { wnids = null; }
            if (wnids is not null && !File.Exists(wnids)) wnids = null;
        }
        return wnids;
    }
}
