using System.Security.Cryptography;
using System.Text;
using Cleave.Models.EarlyExit;
using Cleave.Models.Onnx;
using Cleave.Models.Splitting;
using Cleave.Planning.Planner;
using Cleave.Runtime;

namespace Cleave.Planning.Serving;

/// <summary>
/// The split folders a plan needs: one <c>cleave split</c> folder per cut among the plan's adaptive configurations,
/// under one parent folder, named after the cut tensor. The server hosts them all; the client runs their heads.
/// </summary>
public static class PlanSplitFolders
{
    /// <summary>A folder name for a tensor name: letters, digits, '-' and '.' kept, everything else '_'.</summary>
    public static string FolderName(string tensor)
    {
        var name = new StringBuilder(tensor.Length);
        foreach (char c in tensor) name.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_');
        return name.ToString();
    }

    /// <summary>Cuts <paramref name="modelPath"/> at every split the plan hosts; returns the folders written.</summary>
    public static IReadOnlyList<string> Write(string modelPath, PlanDocument plan, string directory)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var model = OnnxModel.Load(modelPath);
        if (plan.ModelSha256.Length > 0 && model.Sha256 != plan.ModelSha256)
            throw new InvalidDataException($"the plan was made for model {plan.ModelSha256[..12]}..., '{modelPath}' is {model.Sha256[..12]}...");
        var written = Write(model, Path.GetFileName(modelPath), plan.HostedSplits, directory);
        CopyExits(plan, directory);
        return written;
    }

    /// <summary>
    /// Puts each planned early exit (exit.json + its model, from the folder <c>cleave plan --exit</c> read) into the folder
    /// of its cut, after checking the model is the one planned; a cut can hold one exit.
    /// </summary>
    private static void CopyExits(PlanDocument plan, string directory)
    {
        var hosted = plan.HostedSplits.ToHashSet(StringComparer.Ordinal);
        foreach (var group in plan.Configurations.Select(p => p.Configuration)
                     .Where(c => c.ExitThreshold is not null && c.ExitFolder is not null && c.Split is not null && hosted.Contains(c.Split))
                     .GroupBy(c => c.Split!, StringComparer.Ordinal))
        {
            var exits = group.Select(c => (Folder: c.ExitFolder!, Sha: c.ExitSha256 ?? "")).Distinct().ToList();
            if (exits.Count > 1)
                throw new InvalidDataException($"the plan has {exits.Count} different exits at '{group.Key}' ({string.Join(", ", exits.Select(e => e.Folder))}); a split folder holds one");
            var (source, sha) = exits[0];
            string manifestPath = Path.Combine(source, ExitManifest.FileName);
            if (!File.Exists(manifestPath))
                throw new FileNotFoundException($"the plan's exit at '{group.Key}' was planned from '{source}', which holds no {ExitManifest.FileName} any more", manifestPath);
            var manifest = ExitManifest.Load(manifestPath);
            if (sha.Length > 0 && !string.Equals(manifest.ExitSha256, sha, StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"the exit in '{source}' is {manifest.ExitSha256[..Math.Min(12, manifest.ExitSha256.Length)]}..., the plan was made with {sha[..Math.Min(12, sha.Length)]}...: plan again with `cleave plan --exit`");
            string target = Path.Combine(directory, FolderName(group.Key));
            // ExitManifest.Load refused a model path outside the folder; the bytes must be the ones the manifest names.
            byte[] model = File.ReadAllBytes(Path.Combine(source, manifest.ExitFile));
            if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(model)), manifest.ExitSha256, StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"'{manifest.ExitFile}' in '{source}' does not match the hash in {ExitManifest.FileName}");
            File.WriteAllBytes(Path.Combine(target, manifest.ExitFile), model);
            File.Copy(manifestPath, Path.Combine(target, ExitManifest.FileName), overwrite: true);
        }
    }

    /// <summary>Cuts the model at each tensor into its own folder under <paramref name="directory"/>.</summary>
    public static IReadOnlyList<string> Write(OnnxModel model, string modelName, IEnumerable<string> tensors, string directory)
    {
        var analysis = new SplitAnalysis(model);
        var written = new List<string>();
        foreach (string tensor in tensors.Distinct())
        {
            string folder = Path.Combine(directory, FolderName(tensor));
            ModelSplitter.Split(analysis, [tensor], modelName).Save(folder);
            written.Add(folder);
        }
        return written;
    }

    /// <summary>The split folders of the plan's hosted cuts, by cut tensor; a missing one is an error naming the command that writes it.</summary>
    public static IReadOnlyDictionary<string, SplitDirectory> Load(PlanDocument plan, string directory)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var result = new Dictionary<string, SplitDirectory>(StringComparer.Ordinal);
        foreach (string tensor in plan.HostedSplits)
        {
            string folder = Path.Combine(directory, FolderName(tensor));
            if (!File.Exists(Path.Combine(folder, "split.json")))
                throw new FileNotFoundException($"the plan hosts the cut '{tensor}' but '{folder}' holds no split (write them with `cleave split MODEL --plan PLAN -o {directory}`)");
            result[tensor] = SplitDirectory.Load(folder);
        }
        return result;
    }
}
