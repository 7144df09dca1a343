using Cleave.Runtime.Protocol;

namespace Cleave.Runtime.Client;

/// <summary>One task tail's answer to a request: its top classes (kind "classes"), its output frame (kind "tensor", or with return_tensor), and the server time of its model run on the batch.</summary>
public sealed record TaskAnswer(string Name, IReadOnlyList<ScoredClass> Top, byte[]? OutputFrame, double TailMs)
{
    public int Top1 => Top.Count > 0 ? Top[0].ClassIndex : -1;

    internal static TaskAnswer From(TaskResult result) =>
        new(result.Name, result.Top.ToCleave(), result.OutputFrame.IsEmpty ? null : result.OutputFrame.ToByteArray(), result.TailMs);
}
