namespace Cleave.Runtime.Serving;

/// <summary>
/// Bytes that requests being served at once may hold together (full mode: decoded pixels). A request reserves its
/// share before allocating and gives it back when done; when the budget cannot cover it the request is refused
/// instead of waiting, so an attacker sending many large images gets refusals, not the server's memory.
/// </summary>
public sealed class MemoryBudget(long capacityBytes)
{
    private long _used;

    public long CapacityBytes { get; } = capacityBytes > 0 ? capacityBytes : throw new ArgumentOutOfRangeException(nameof(capacityBytes));

    public long UsedBytes => Interlocked.Read(ref _used);

    /// <summary>Reserves <paramref name="bytes"/> when they fit; the caller must <see cref="Release"/> exactly what it reserved.</summary>
    public bool TryReserve(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes > CapacityBytes) return false;
        if (Interlocked.Add(ref _used, bytes) <= CapacityBytes) return true;
        Interlocked.Add(ref _used, -bytes);
        return false;
    }

    public void Release(long bytes) => Interlocked.Add(ref _used, -bytes);
}
