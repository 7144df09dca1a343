using Cleave.Runtime.Protocol;

namespace Cleave.Runtime.Serving;

/// <summary>
/// Remembers the answers (or the still-running work) of recent requests by (client id, request id), so that a retry
/// carrying the same id is answered from here instead of being run twice. Bounded: the oldest entries are forgotten
/// first. Refusals (queue full, shutting down) are not kept, so their retries run normally.
/// </summary>
public sealed class IdempotencyCache
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Client, string Request), LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _age = new();

    public IdempotencyCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    public int Capacity { get; }

    public int Count { get { lock (_lock) return _entries.Count; } }

    /// <summary>
    /// The task answering this request: the existing one (<paramref name="created"/> false: a retry or duplicate), or a
    /// new one from <paramref name="start"/>, which is called at most once per key while its entry is kept.
    /// </summary>
    public Task<InferResponse> GetOrStart(string clientId, string requestId, Func<Task<InferResponse>> start, out bool created)
    {
        var key = (clientId, requestId);
        Entry entry;
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var found) && !IsForgettable(found.Value.Task))
            {
                created = false;
                return found.Value.Task;
            }
            if (found is not null) Remove(found);
            // The entry exists before the work starts, so a duplicate arriving meanwhile waits for this same task.
            entry = new Entry(key, new TaskCompletionSource<InferResponse>(TaskCreationOptions.RunContinuationsAsynchronously));
            _entries[key] = _age.AddLast(entry);
            while (_entries.Count > Capacity) Remove(_age.First!);
        }
        created = true;
        _ = Complete(entry, start);
        return entry.Completion.Task;
    }

    private async Task Complete(Entry entry, Func<Task<InferResponse>> start)
    {
        try
        {
            var response = await start().ConfigureAwait(false);
            entry.Completion.TrySetResult(response);
        }
        catch (OperationCanceledException e) { entry.Completion.TrySetCanceled(e.CancellationToken); }
        catch (Exception e) { entry.Completion.TrySetException(e); }
        if (!entry.Completion.Task.IsCompletedSuccessfully || IsRefusal(entry.Completion.Task.Result))
            lock (_lock)
                if (_entries.TryGetValue(entry.Key, out var node) && node.Value == entry) Remove(node);
    }

    /// <summary>A task that ended without an answer (client gone, server error) is no reason to refuse a retry.</summary>
    private static bool IsForgettable(Task<InferResponse> task) =>
        task.IsCanceled || task.IsFaulted || (task.IsCompletedSuccessfully && IsRefusal(task.Result));

    private static bool IsRefusal(InferResponse response) =>
        response.Error is { } e && SplitInferenceException.IsTransientCode(e.Code);

    private void Remove(LinkedListNode<Entry> node)
    {
        _age.Remove(node);
        _entries.Remove(node.Value.Key);
    }

    private sealed record Entry((string Client, string Request) Key, TaskCompletionSource<InferResponse> Completion)
    {
        public Task<InferResponse> Task => Completion.Task;
    }
}
