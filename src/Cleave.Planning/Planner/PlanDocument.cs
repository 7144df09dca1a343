using System.Text.Json;
using System.Text.Json.Serialization;
using Cleave.Planning.Latency;
using Cleave.Runtime.Links;

namespace Cleave.Planning.Planner;

/// <summary>
/// <c>plan.json</c>: the decision and everything a client and a server need to act on it. Schema in docs/planning.md.
/// Configurations carry link-independent costs (already scaled to the planned device and server), so a client can
/// re-predict each one for the link it measures and switch among <see cref="Adaptive"/> ones at run time.
/// </summary>
public sealed record PlanDocument
{
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;
    public string Model { get; init; } = "";
    public string ModelSha256 { get; init; } = "";
    public int CalibrationImages { get; init; }
    public double FullTop1 { get; init; }
    public PlanLink Link { get; init; } = new("none", 0, 0, 0);
    public double DeviceSpeed { get; init; } = 1;
    public double ServerSpeed { get; init; } = 1;
    public double MaxDropPoints { get; init; }
    public double? SloMs { get; init; }
    public string Objective { get; init; } = "latency";

    public string Chosen { get; init; } = "";
    public bool Feasible { get; init; }
    public string Explanation { get; init; } = "";
    public LatencyBreakdown? Predicted { get; init; }

    /// <summary>Ids of the configurations the client may switch among (the chosen one first); their splits are the ones a server should host.</summary>
    public IReadOnlyList<string> Adaptive { get; init; } = [];

    /// <summary>Every candidate with its prediction on the planned link; <c>pareto</c> marks the latency/accuracy front.</summary>
    public IReadOnlyList<PlannedConfiguration> Configurations { get; init; } = [];

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        // Readable files (<=, quotes): they are read by people and JSON parsers, never embedded in HTML.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static PlanDocument From(PlanDecision decision, IReadOnlyList<Configuration> adaptive, Profiles.PlanningProfile profile, Hardware hardware) => new()
    {
        Model = profile.Model,
        ModelSha256 = profile.ModelSha256,
        CalibrationImages = profile.Images,
        FullTop1 = profile.FullTop1,
        Link = PlanLink.From(decision.Request.Link),
        DeviceSpeed = hardware.DeviceSpeed,
        ServerSpeed = hardware.ServerSpeed,
        MaxDropPoints = decision.Request.MaxDropPoints,
        SloMs = decision.Request.SloMs,
        Objective = PlanRequest.Name(decision.Request.Objective),
        Chosen = decision.Chosen.Configuration.Id,
        Feasible = decision.Feasible,
        Explanation = decision.Explanation,
        Predicted = decision.Chosen.Latency,
        Adaptive = [.. adaptive.Select(c => c.Id)],
        Configurations = [.. decision.Candidates.Select(e => new PlannedConfiguration(e.Configuration, e.Latency.TotalMs, e.Feasible, e.Pareto))],
    };

    public Configuration Configuration(string id) =>
        Configurations.FirstOrDefault(c => c.Configuration.Id == id)?.Configuration
        ?? throw new KeyNotFoundException($"the plan has no configuration '{id}'");

    public Configuration ChosenConfiguration => Configuration(Chosen);

    public IReadOnlyList<Configuration> AdaptiveConfigurations => [.. Adaptive.Select(Configuration)];

    /// <summary>The cut tensors of the adaptive configurations, in order: what a server hosting this plan loads.</summary>
    public IReadOnlyList<string> HostedSplits => [.. AdaptiveConfigurations.Where(c => c.Split is not null).Select(c => c.Split!).Distinct()];

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public void Save(string path) => File.WriteAllText(path, ToJson());

    public static PlanDocument Load(string path)
    {
        PlanDocument? plan;
        try { plan = JsonSerializer.Deserialize<PlanDocument>(File.ReadAllText(path), JsonOptions); }
        catch (JsonException e) { throw new InvalidDataException($"'{path}' is not a plan: {e.Message}", e); }
        if (plan is null) throw new InvalidDataException($"'{path}' is empty");
        if (plan.Version != CurrentVersion) throw new InvalidDataException($"'{path}' is a version {plan.Version} plan; this build reads version {CurrentVersion}");
        if (plan.Configurations.All(c => c.Configuration.Id != plan.Chosen)) throw new InvalidDataException($"'{path}' chooses '{plan.Chosen}', which it does not list");
        return plan;
    }
}

/// <summary>A configuration as plan.json lists it: its costs and its prediction on the planned link.</summary>
public sealed record PlannedConfiguration(
    [property: JsonPropertyName("configuration")] Configuration Configuration,
    double PredictedMs, bool Feasible, bool Pareto);

/// <summary>The planned link (JSON has no infinity: an unlimited rate is written as 0). Loss: probability per packet (absent in older plans: 0).</summary>
public sealed record PlanLink(string Name, double UplinkKbps, double DownlinkKbps, double RttMs, double Loss = 0)
{
    public static PlanLink From(LinkProfile link) => new(link.Name,
        double.IsPositiveInfinity(link.UplinkKbps) ? 0 : link.UplinkKbps, double.IsPositiveInfinity(link.DownlinkKbps) ? 0 : link.DownlinkKbps, link.RttMs,
        link.Loss);

    public LinkProfile ToProfile() => new(Name, UplinkKbps > 0 ? UplinkKbps : double.PositiveInfinity,
        DownlinkKbps > 0 ? DownlinkKbps : double.PositiveInfinity, RttMs, Loss);
}
