using System.Security.Cryptography;
using Cleave.Codecs.IO;
using Cleave.Models.Splitting;
using Cleave.Runtime.Links;
using Cleave.Training.Tasks;

namespace Cleave.Training.Resilience;

/// <summary>
/// Serving an error-aware tail beside the plain one: it is added to the split folder as a task tail
/// (<see cref="SplitTask"/>, file <c>task-NAME.onnx</c>) reading the same cut tensor, so a client that measured or declared
/// a bad channel names that task in its requests (<c>cleave client --tasks NAME</c>) and the server answers from it; the
/// protocol and the frames are unchanged. Adding a task changes split.json, so devices load the folder again once.
/// The channels it was trained on are recorded with the task (<see cref="SplitTask.TrainedChannels"/>), so a client
/// that declares its bit-error rate picks the task by itself (<c>Cleave.Runtime.Client.ChannelTaskChoice</c>).
/// </summary>
public static class ErrorAwareTask
{
    public static SplitManifest Add(string splitDirectory, string errorAwareTail, string name, IReadOnlyList<BitErrorModel>? trainedChannels = null)
    {
        string manifestPath = Path.Combine(splitDirectory, "split.json");
        var manifest = SplitManifest.Load(manifestPath);
        byte[] bytes = File.ReadAllBytes(errorAwareTail);
        var task = new SplitTask
        {
            Name = name, File = TaskTailTraining.TaskFile(name), Kind = SplitTask.ClassesKind, Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
            TrainedChannels = trainedChannels?.Where(c => !c.IsNone).Select(c => new SplitTaskChannel { Ber = c.BitErrorRate, BurstBits = c.MeanBurstBits }).ToList() is { Count: > 0 } recorded
                ? recorded : null,
        };
        task.Validate();
        var updated = manifest.WithTasks([.. manifest.EffectiveTasks().Where(t => t.Name != name).Append(task)]);
        AtomicFile.WriteAllBytes(Path.Combine(splitDirectory, task.File), bytes);
        AtomicFile.Write(manifestPath, s => s.Write(System.Text.Encoding.UTF8.GetBytes(updated.ToJson() + "\n")));
        return updated;
    }
}
