using System.Text;
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
        return Write(model, Path.GetFileName(modelPath), plan.HostedSplits, directory);
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
