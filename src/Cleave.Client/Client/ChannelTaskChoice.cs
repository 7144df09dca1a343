using System.Globalization;
using Cleave.Models.Splitting;
using Cleave.Runtime.Links;

namespace Cleave.Runtime.Client;

/// <summary>
/// Which task tails a client names when it did not name any: on a declared bit-error channel, the error-aware task
/// (<see cref="SplitTask.TrainedChannels"/>) made for it, else the default task (docs/resilience.md, "Selection by the
/// channel"). Rule: a task is eligible when the declared rate is at least a tenth of the lowest rate it was trained on
/// (below that nearly every frame arrives whole, and the plain tail answers whole frames better: the measured
/// error-aware tail lost 4.6 points on error-free frames); of the eligible tasks the one whose lowest trained rate is
/// nearest at or below the declared rate, else the one whose lowest trained rate is lowest. Tasks named explicitly
/// always win, and a channel without errors never picks one.
/// </summary>
public sealed class ChannelTaskChoice
{
    /// <summary>A task is eligible down to its lowest trained rate divided by this.</summary>
    public const double EligibleBelowTrainedRate = 10;

    private ChannelTaskChoice(IReadOnlyList<string> tasks, string? chosen, string reason)
    {
        Tasks = tasks;
        Chosen = chosen;
        Reason = reason;
    }

    /// <summary>The tasks to name in every request (<see cref="SplitClientOptions.Tasks"/>); empty: the default task only.</summary>
    public IReadOnlyList<string> Tasks { get; }

    /// <summary>The error-aware task picked for the channel, or null (explicit tasks, or the default task).</summary>
    public string? Chosen { get; }

    /// <summary>Why, in words (printed by the client).</summary>
    public string Reason { get; }

    /// <param name="tasks">The split folder's tasks (<see cref="SplitDirectory.Tasks"/>), default first.</param>
    /// <param name="declared">The channel the client measured or declared (<see cref="BitErrorModel.None"/>: none).</param>
    /// <param name="explicitTasks">Tasks the user named (<c>--tasks</c>); any, even an empty list, means no choice is made.</param>
    public static ChannelTaskChoice Choose(IReadOnlyList<SplitTask> tasks, BitErrorModel declared, IReadOnlyList<string>? explicitTasks)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(declared);
        if (explicitTasks is not null) return new(explicitTasks, null, "tasks named explicitly (--tasks)");
        if (declared.IsNone) return new([], null, "no bit errors declared: the default task");
        var errorAware = tasks.Where(t => t.TrainedChannels is { Count: > 0 })
            .Select(t => (Task: t, Floor: t.TrainedChannels!.Min(c => c.Ber))).ToList();
        double rate = declared.BitErrorRate;
        if (errorAware.Count == 0) return new([], null, Text($"declared BER {rate:G3}, but the split folder has no error-aware task: the default task"));
        var eligible = errorAware.Where(e => rate >= e.Floor / EligibleBelowTrainedRate).ToList();
        if (eligible.Count == 0)
        {
            var lowest = errorAware.MinBy(e => e.Floor);
            return new([], null, Text($"declared BER {rate:G3} is below a tenth of the lowest rate an error-aware task was trained on ({lowest.Task.Name}: {lowest.Floor:G3}): the default task"));
        }
        var atOrBelow = eligible.Where(e => e.Floor <= rate).ToList();
        var pick = atOrBelow.Count > 0 ? atOrBelow.MaxBy(e => e.Floor) : eligible.MinBy(e => e.Floor);
        string trained = string.Join(", ", pick.Task.TrainedChannels!);
        return new([pick.Task.Name], pick.Task.Name,
            Text($"declared BER {rate:G3}: error-aware task '{pick.Task.Name}' (trained on {trained}; chosen from {EligibleBelowTrainedRate:G}x below its lowest trained rate up)"));
    }

    /// <summary>
    /// This choice checked against the tasks a server announced in its Welcome: a picked task the server does not run
    /// (its folder lacks it; task lists are not part of the manifest hash) falls back to the default task, where
    /// naming it would get every request UNKNOWN_TASK. Returns this choice when nothing changes (also for a server that
    /// lists no tasks: one that predates them).
    /// </summary>
    public ChannelTaskChoice ServedBy(IReadOnlyList<ServedTask> served)
    {
        ArgumentNullException.ThrowIfNull(served);
        if (Chosen is null || served.Count == 0 || served.Any(t => t.Name == Chosen)) return this; // an empty list: a server that predates tasks
        return new([], null, $"{Reason}; but the server does not serve task '{Chosen}' (it serves {string.Join(", ", served.Select(t => t.Name))}): the default task");
    }

    private static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
