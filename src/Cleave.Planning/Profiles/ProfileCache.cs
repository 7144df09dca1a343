namespace Cleave.Planning.Profiles;

/// <summary>A profile on disk is reused while it still describes the same model, image count, cuts and codecs; else it is collected again.</summary>
public static class ProfileCache
{
    public static string DefaultPath(string modelPath, int images) => $"{modelPath}.profile-{images}.json";

    /// <summary>Why <paramref name="cached"/> cannot stand for the requested calibration, or null when it can.</summary>
    public static string? Mismatch(PlanningProfile cached, string modelSha256, int images, ProfileOptions options)
    {
        if (cached.ModelSha256 != modelSha256) return "it was collected for another model";
        if (cached.Images != images) return $"it used {cached.Images} images, not {images}";
        if (options.Splits.Count > 0 && !cached.Splits.Select(s => s.Tensor).Order().SequenceEqual(options.Splits.Order()))
            return "it has other cuts";
        foreach (var s in cached.Splits)
            if (!s.Codecs.Select(c => c.Codec).Order().SequenceEqual(options.Codecs.Select(c => Codecs.FeatureCodecs.Create(c).Spec).Order()))
                return "it has other codec settings";
        if (!cached.Offload.Select(o => o.Quality).Order().SequenceEqual(options.JpegQualities.Order())) return "it has other JPEG qualities";
        return null;
    }
}
