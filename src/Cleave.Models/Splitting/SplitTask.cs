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
    }

    private void CheckPlainFileName(string file, string what)
    {
        if (file.Length == 0 || file.Length > 255 || file is "." or ".." || file.IndexOfAny(['/', '\\', '\0']) >= 0)
            throw new InvalidDataException($"task '{Name}': {what} '{file}' must be a plain file name in the split folder");
    }

    [GeneratedRegex("^[a-z0-9_-]{1,64}$")]
    private static partial Regex NamePattern();
}
