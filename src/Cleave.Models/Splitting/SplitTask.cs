using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Cleave.Models.Splitting;

/// <summary>
/// One task tail on a split's cut (<see cref="SplitManifest.Tasks"/>): a model that reads the same transmitted cut
/// tensor as <c>tail.onnx</c> and answers a different question (Ladon / MTL-Split: the device sends once, the server
/// runs one tail per task).
/// </summary>
public sealed partial class SplitTask
{
    public const string ClassesKind = "classes";
    public const string TensorKind = "tensor";

    /// <summary>The name requests use (lower-case letters, digits, '-', '_'; at most 64 characters).</summary>
    public string Name { get; init; } = "";

    /// <summary>The tail's ONNX file, a plain file name in the split folder.</summary>
    public string File { get; init; } = "";

    /// <summary><see cref="ClassesKind"/> (answers are the top classes) or <see cref="TensorKind"/> (answers are the output tensor).</summary>
    public string Kind { get; init; } = ClassesKind;

    /// <summary>Class names, one per line, in a plain file in the split folder (class index = line number), or null.</summary>
    public string? Labels { get; init; }

    /// <summary>Lower-case hex SHA-256 of <see cref="File"/>; checked when the folder is loaded (empty: not checked).</summary>
    public string Sha256 { get; init; } = "";

    /// <summary>
    /// For an error-aware tail (<c>cleave train error-aware --as-task</c>): the bit-error channels it was trained on;
    /// null for other tasks and for folders written before it was recorded. Left out of split.json when null, so
    /// manifests without error-aware tasks read and write as before.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<SplitTaskChannel>? TrainedChannels { get; init; }

    /// <summary>The most trained channels one task may record.</summary>
    public const int MaxTrainedChannels = 64;

    /// <summary>
    /// Throws <see cref="InvalidDataException"/> for a name or file that a manifest must not hold: a file outside the
    /// folder (path separators, "..") would let a manifest make a server read any file.
    /// </summary>
    public void Validate()
    {
        if (!NamePattern().IsMatch(Name))
            throw new InvalidDataException($"task name '{Name}' is not valid: 1-64 characters of a-z, 0-9, '-', '_'");
        CheckPlainFileName(File, "file");
        if (Labels is not null) CheckPlainFileName(Labels, "labels");
        if (Kind is not (ClassesKind or TensorKind))
            throw new InvalidDataException($"task '{Name}' has kind '{Kind}'; expected '{ClassesKind}' or '{TensorKind}'");
        if (TrainedChannels is null) return;
        if (TrainedChannels.Count is 0 or > MaxTrainedChannels)
            throw new InvalidDataException($"task '{Name}' records {TrainedChannels.Count} trained channels; expected 1 to {MaxTrainedChannels} (or none at all)");
        foreach (var channel in TrainedChannels)
            (channel ?? throw new InvalidDataException($"task '{Name}' records a null trained channel")).Validate(Name);
    }

    private void CheckPlainFileName(string file, string what)
    {
        if (file.Length == 0 || file.Length > 255 || file is "." or ".." || file.IndexOfAny(['/', '\\', '\0']) >= 0)
            throw new InvalidDataException($"task '{Name}': {what} '{file}' must be a plain file name in the split folder");
    }

    [GeneratedRegex("^[a-z0-9_-]{1,64}$")]
    private static partial Regex NamePattern();
}
