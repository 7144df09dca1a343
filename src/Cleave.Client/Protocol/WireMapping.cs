using Cleave.Runtime.Client;
using Cleave.Runtime.Generation;
using Google.Protobuf.Collections;

namespace Cleave.Runtime.Protocol;

/// <summary>
/// Between the generated <c>cleave.v1</c> messages (internal: the wire format, not Cleave's API; docs/packaging.md)
/// and the records and enums Cleave's public API speaks. The enums keep the wire's numbers, so a code maps by its
/// number, an unknown one included.
/// </summary>
internal static class WireMapping
{
    public static SplitErrorCode ToCleave(this ErrorCode code) => (SplitErrorCode)code;

    public static ErrorCode ToWire(this SplitErrorCode code) => (ErrorCode)code;

    public static GenerationFailureCode ToCleave(this GenerationErrorCode code) => (GenerationFailureCode)code;

    public static GenerationErrorCode ToWire(this GenerationFailureCode code) => (GenerationErrorCode)code;

    public static IReadOnlyList<ScoredClass> ToCleave(this RepeatedField<ClassScore> top)
    {
        var scores = new ScoredClass[top.Count];
        for (int i = 0; i < scores.Length; i++) scores[i] = new ScoredClass(top[i].ClassIndex, top[i].Score);
        return scores;
    }

    public static ServerTimes ToCleave(this ServerTiming? timing) => timing is null
        ? ServerTimes.None
        : new ServerTimes(timing.QueueMs, timing.DecodeMs, timing.TailMs, (int)Math.Min(timing.BatchSize, int.MaxValue));

    public static ServerWelcome ToCleave(this Welcome welcome)
    {
        var tasks = new ServedTask[welcome.Tasks.Count];
        for (int i = 0; i < tasks.Length; i++)
        {
            var task = welcome.Tasks[i];
            tasks[i] = new ServedTask(task.Name, task.Kind, (int)Math.Min(task.Outputs, int.MaxValue));
        }
        return new ServerWelcome(welcome.ServerId, welcome.ManifestHash, [.. welcome.AcceptedCodecs],
            (int)Math.Min(welcome.MaxMessageBytes, int.MaxValue), welcome.Mode, tasks);
    }
}
