using System.Globalization;
using System.Text;

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

    /// <summary>The counters in the Prometheus text format (appended to the front end's /metrics).</summary>
    public string ToPrometheusText()
    {
        var s = new StringBuilder(1024);
        void Sample(string name, string type, string help, long value) =>
            s.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n')
             .Append(name).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        Sample("cleave_sessions_active", "gauge", "language-model session grains active on this silo", Active);
        Sample("cleave_sessions_opened_total", "counter", "sessions opened fresh on this silo", Opened);
        Sample("cleave_sessions_resumed_total", "counter", "sessions rebuilt on this silo from a client's history", Resumed);
        Sample("cleave_sessions_replayed_tokens_total", "counter", "tokens run again to rebuild resumed sessions", ReplayedTokens);
        Sample("cleave_sessions_lost_steps_total", "counter", "steps that found their session gone (answered SESSION_EVICTED)", Lost);
        Sample("cleave_sessions_retried_steps_total", "counter", "re-sent steps answered from the last response", RetriedSteps);
        return s.ToString();
    }

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
