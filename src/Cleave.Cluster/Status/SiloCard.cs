namespace Cleave.Cluster.Status;

/// <summary>What one silo reports about itself every few seconds: where its front end is, what it serves, its load.</summary>
[GenerateSerializer, Immutable]
public sealed record SiloCard
{
    /// <summary>Orleans' address of the silo (ip:port@generation).</summary>
    [Id(0)] public required string Silo { get; init; }
    /// <summary>The gRPC front end clients connect to.</summary>
    [Id(1)] public required string FrontEnd { get; init; }
    /// <summary>Manifest hashes of the split folders (cuts) this silo serves, plus "full:&lt;sha256&gt;" for whole models.</summary>
    [Id(2)] public string[] Cuts { get; init; } = [];
    /// <summary>The language model's source hash and split layer ("" without one).</summary>
    [Id(3)] public string LanguageModel { get; init; } = "";
    [Id(4)] public long Sessions { get; init; }
    [Id(5)] public long SessionsResumed { get; init; }
    [Id(6)] public long ReplayedTokens { get; init; }
    /// <summary>Classification requests received since the silo started.</summary>
    [Id(7)] public long Requests { get; init; }
    /// <summary>The process's CPU use since the last report, in percent of one core.</summary>
    [Id(8)] public double CpuPercent { get; init; }
    [Id(9)] public long WorkingSetBytes { get; init; }
    [Id(10)] public DateTimeOffset Reported { get; init; }
}
