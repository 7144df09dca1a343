using Cleave.Runtime.Protocol;

namespace Cleave.Runtime.Serving;

/// <summary>
/// The tasks one request asked for, as indices into <see cref="InferenceBackend.Tasks"/> in the request's order and
/// as the batcher's bit mask; or the typed error for a request naming a task not served (UNKNOWN_TASK) or one twice
/// (INVALID_REQUEST). Checked before the payload is decoded, so such a request costs the server nothing.
/// </summary>
internal readonly record struct TaskSelection(int[] Indices, uint Mask, SplitInferenceException? Error)
{
    private static readonly int[] DefaultOnly = [0];

    public static TaskSelection Resolve(InferenceBackend backend, IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(names);
        if (names.Count == 0) return new TaskSelection(DefaultOnly, 1, null);
        var tasks = backend.Tasks;
        // A list longer than the served tasks must repeat or invent a name: refused before looking at each.
        if (names.Count > tasks.Count)
            return Refuse(ErrorCode.InvalidRequest, $"the request names {names.Count} tasks; this server runs {tasks.Count} on the cut ({Served(tasks)})");
        var indices = new int[names.Count];
        uint mask = 0;
        for (int i = 0; i < names.Count; i++)
        {
            int index = backend.TaskIndex(names[i]);
            if (index < 0)
                return Refuse(ErrorCode.UnknownTask, $"no task '{Truncate(names[i])}' here; this server runs {Served(tasks)}");
            uint bit = 1u << index;
            if ((mask & bit) != 0) return Refuse(ErrorCode.InvalidRequest, $"the request names task '{names[i]}' twice");
            mask |= bit;
            indices[i] = index;
        }
        return new TaskSelection(indices, mask, null);
    }

    private static TaskSelection Refuse(ErrorCode code, string message) => new([], 0, new SplitInferenceException(code, message));

    private static string Served(IReadOnlyList<TaskModel> tasks) => string.Join(", ", tasks.Select(t => t.Name));

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "...";
}
