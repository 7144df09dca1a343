using Cleave.Evaluation.Studies;

namespace Cleave.Evaluation.Classification;

/// <summary>
/// What a sweep measures: every codec at every split (the float32 <c>raw</c> codec is always added, it is the
/// split baseline), plus image baselines. Each image runs the unsplit model once and each head once; all codecs at a
/// split see the identical feature tensor.
/// </summary>
public sealed record SweepGrid(IReadOnlyList<string> Splits, IReadOnlyList<CodecFamily> Codecs, IReadOnlyList<ImageBaseline> Baselines)
{
    /// <summary>
    /// Split folders (head.onnx, tail.onnx, split.json from <c>cleave split</c> or a trained split) measured like the
    /// splits the sweep cuts itself: every codec at their cut, against the unsplit model.
    /// </summary>
    public IReadOnlyList<string> SplitFolders { get; init; } = [];

    /// <summary>
    /// The threshold a split folder's early exit (<c>exit.json</c>) runs at: by default the calibrated one where a folder
    /// has an exit; <see cref="ExitThresholdChoice.None"/> measures the split alone.
    /// </summary>
    public ExitThresholdChoice ExitThreshold { get; init; } = ExitThresholdChoice.Default;

    /// <summary>
    /// Parses the command-line forms: splits separated by ';', codecs as <see cref="CodecSweepSpec"/> (families,
    /// <c>{a,b}</c> expansion), baselines separated by ';' with <c>{a,b}</c> expansion (e.g. <c>jpeg:q={50,75,90};local</c>).
    /// </summary>
    public static SweepGrid Parse(string? splits, string? codecs, string? baselines, string? splitFolders = null)
    {
        var folderList = (splitFolders ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var splitList = (splits ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var families = string.IsNullOrWhiteSpace(codecs) ? [] : CodecSweepSpec.Parse(codecs);
        var baselineList = new List<ImageBaseline>();
        if (!string.IsNullOrWhiteSpace(baselines))
            foreach (var family in CodecSweepSpec.Parse(baselines))
                foreach (string spec in family.Specs)
                    baselineList.Add(ImageBaseline.Parse(spec));
        if (splitList.Length == 0 && folderList.Length == 0 && baselineList.Count == 0) throw new ArgumentException("nothing to measure: give at least one split or baseline");
        if (splitList.Length == 0 && folderList.Length == 0 && families.Count > 0) throw new ArgumentException("codecs apply at a cut: give at least one split");
        foreach (string folder in folderList)
            if (!File.Exists(Path.Combine(folder, "split.json"))) throw new ArgumentException($"'{folder}' is not a split folder (no split.json)");
        return new SweepGrid(splitList, families, baselineList) { SplitFolders = folderList };
    }
}
