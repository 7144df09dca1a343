using Cleave.Planning.Latency;
using Cleave.Planning.Planner;

namespace Cleave.Planning.Adaptation;

/// <summary>What a switch was and why, for logs and reports.</summary>
public sealed record SwitchEvent(int Request, string From, string To, double UplinkKbps, double RttMs, double FromPredictedMs, double ToPredictedMs);

/// <summary>
/// Switches among a plan's precomputed configurations as the measured link changes. After every request it
/// re-predicts each configuration's latency for the current <see cref="LinkEstimator"/> estimate; it moves to the best
/// one only when that is predicted at least <see cref="Margin"/> faster than the current one, on
/// <see cref="Confirmations"/> consecutive requests, and no sooner than <see cref="MinRequestsBetweenSwitches"/> after
/// the last switch (hysteresis: a link hovering near a crossover does not make it flap). Every configuration in the
/// set already meets the plan's accuracy budget, so switching never trades accuracy beyond it.
/// </summary>
public sealed class AdaptiveSelector
{
    private readonly IReadOnlyList<Configuration> _configurations;
    private int _requests;
    private int _lastSwitch;
    private int _streak;
    private string? _candidate;
    private readonly List<SwitchEvent> _switches = [];

    public AdaptiveSelector(IReadOnlyList<Configuration> configurations, LinkEstimator estimator, double margin = 0.15, int confirmations = 2,
        int minRequestsBetweenSwitches = 3)
    {
        ArgumentNullException.ThrowIfNull(configurations);
        if (configurations.Count == 0) throw new ArgumentException("an adaptive plan needs at least one configuration");
        if (!(margin >= 0 && margin < 1)) throw new ArgumentOutOfRangeException(nameof(margin), margin, "the switching margin must be in [0, 1)");
        _configurations = configurations;
        Estimator = estimator;
        Current = configurations[0];
        Margin = margin;
        Confirmations = Math.Max(1, confirmations);
        MinRequestsBetweenSwitches = Math.Max(0, minRequestsBetweenSwitches);
        _lastSwitch = -MinRequestsBetweenSwitches;
    }

    public static AdaptiveSelector ForPlan(PlanDocument plan, double margin = 0.15, int confirmations = 2, int minRequestsBetweenSwitches = 3)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var link = plan.Link.ToProfile();
        var estimator = new LinkEstimator(double.IsPositiveInfinity(link.UplinkKbps) ? 1e6 : link.UplinkKbps, link.RttMs);
        return new AdaptiveSelector(plan.AdaptiveConfigurations, estimator, margin, confirmations, minRequestsBetweenSwitches);
    }

    public LinkEstimator Estimator { get; }
    public Configuration Current { get; private set; }
    public double Margin { get; }
    public int Confirmations { get; }
    public int MinRequestsBetweenSwitches { get; }
    public IReadOnlyList<Configuration> Configurations => _configurations;
    public IReadOnlyList<SwitchEvent> Switches => _switches;

    /// <summary>Predicted latency of <paramref name="c"/> on the link as currently estimated.</summary>
    public double Predict(Configuration c) => LatencyModel.PredictTotal(c, Estimator.UplinkKbps, Estimator.RttMs);

    /// <summary>
    /// Records one finished request (its uplink bytes and the network share of its latency; pass 0 bytes for a
    /// request that used no network) and returns the configuration to use next.
    /// </summary>
    public Configuration Observe(long bytes, double networkMs)
    {
        _requests++;
        if (bytes > 0) Estimator.ObserveTransfer(bytes, networkMs);
        return Reconsider();
    }

    /// <summary>Re-evaluates after an RTT probe or any other estimate update.</summary>
    public Configuration Reconsider()
    {
        var best = Current;
        double bestMs = Predict(Current), currentMs = bestMs;
        foreach (var c in _configurations)
        {
            double ms = Predict(c);
            if (ms < bestMs) { best = c; bestMs = ms; }
        }
        if (ReferenceEquals(best, Current) || bestMs > (1 - Margin) * currentMs)
        {
            _streak = 0;
            _candidate = null;
            return Current;
        }
        _streak = _candidate == best.Id ? _streak + 1 : 1;
        _candidate = best.Id;
        if (_streak < Confirmations || _requests - _lastSwitch < MinRequestsBetweenSwitches) return Current;
        _switches.Add(new SwitchEvent(_requests, Current.Id, best.Id, Estimator.UplinkKbps, Estimator.RttMs, currentMs, bestMs));
        Current = best;
        _lastSwitch = _requests;
        _streak = 0;
        _candidate = null;
        return Current;
    }
}
