namespace Cleave.Runtime.Client;

/// <summary>
/// The servers a <see cref="SplitClient"/> may use (a cluster's silos, any of which answers any classification
/// request) and which one it uses now. A failed connect moves on to the next address at once; only a whole round
/// of failed addresses earns the reconnect backoff, so one dead silo costs a request no backoff wait. The first
/// address is the preferred one: a client that left it (dead or overloaded) returns once it answers again.
/// Not thread-safe: the client changes it only under its connect lock.
/// </summary>
internal sealed class ServerAddressList
{
    private readonly Uri[] _addresses;
    private int _current;
    private int _failedThisRound;

    public ServerAddressList(IReadOnlyList<Uri> addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        if (addresses.Count == 0) throw new ArgumentException("give at least one server address", nameof(addresses));
        _addresses = [.. addresses];
        foreach (var address in _addresses) ArgumentNullException.ThrowIfNull(address, nameof(addresses));
    }

    public int Count => _addresses.Length;

    public int CurrentIndex => _current;

    public Uri Current => _addresses[_current];

    public Uri this[int index] => _addresses[index];

    /// <summary>The preferred address (the first given) is the current one.</summary>
    public bool OnPreferred => _current == 0;

    /// <summary>Moves to the next address because the current one is overloaded (not a failed connect: no round is counted).</summary>
    public void MoveOn() => _current = (_current + 1) % _addresses.Length;

    /// <summary>The preferred address answered a probe: it is the current one again.</summary>
    public void ReturnToPreferred()
    {
        _current = 0;
        _failedThisRound = 0;
    }

    /// <summary>The current address connected: the next failure starts a new round.</summary>
    public void Succeeded() => _failedThisRound = 0;

    /// <summary>
    /// The current address failed: moves to the next one. True when every address has now failed in a row (a full
    /// round, to be followed by a backoff wait); the round then starts over.
    /// </summary>
    public bool Failed()
    {
        _current = (_current + 1) % _addresses.Length;
        if (++_failedThisRound < _addresses.Length) return false;
        _failedThisRound = 0;
        return true;
    }

    public override string ToString() => string.Join(", ", _addresses.Select(a => a.ToString().TrimEnd('/')));
}
