namespace Cleave.Cluster.Sessions;

/// <summary>What this silo's session grains did: read by <c>cleave cluster status</c>, the metrics and the tests.</summary>
public sealed class SessionCounters
{
    private long _opened, _resumed, _replayedTokens, _lost, _retriedSteps, _active;

    /// <summary>Sessions opened fresh on this silo.</summary>
    public long Opened => Interlocked.Read(ref _opened);

    /// <summary>Sessions rebuilt here from a client's history.</summary>
    public long Resumed => Interlocked.Read(ref _resumed);

    /// <summary>Tokens run again through the tail to rebuild resumed sessions.</summary>
    public long ReplayedTokens => Interlocked.Read(ref _replayedTokens);

    /// <summary>Steps that reached an activation without the session (its silo died, or it was deactivated): answered SESSION_EVICTED.</summary>
    public long Lost => Interlocked.Read(ref _lost);

    /// <summary>Steps answered from the last response because a client re-sent a step that had already run (front-end failover).</summary>
    public long RetriedSteps => Interlocked.Read(ref _retriedSteps);

    /// <summary>Session activations on this silo now.</summary>
    public long Active => Interlocked.Read(ref _active);

    internal void CountOpen(int historyTokens)
    {
        if (historyTokens == 0) Interlocked.Increment(ref _opened);
        else
        {
            Interlocked.Increment(ref _resumed);
            Interlocked.Add(ref _replayedTokens, historyTokens);
        }
    }

    internal void CountLost() => Interlocked.Increment(ref _lost);
    internal void CountRetriedStep() => Interlocked.Increment(ref _retriedSteps);
    internal void CountActivation(int delta) => Interlocked.Add(ref _active, delta);
}
