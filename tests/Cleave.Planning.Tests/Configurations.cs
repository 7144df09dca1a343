using Cleave.Planning.Planner;

namespace Cleave.Planning.Tests;

/// <summary>Hand-made configurations with round numbers, so expected latencies can be worked out on paper.</summary>
internal static class Configurations
{
    public static Configuration Local(double deviceMs) => new()
    {
        Id = Configuration.LocalId, Kind = ConfigurationKind.Local, DeviceMs = deviceMs, Top1 = 0.85, DropPoints = 0, Agreement = 1,
    };

    public static Configuration Offload(double bytes, double serverMs, double drop = 3) => new()
    {
        Id = Configuration.OffloadId(90), Kind = ConfigurationKind.Offload, Codec = "jpeg:q=90", DeviceMs = 2, EncodeMs = 1,
        BytesMean = bytes, ServerDecodeMs = 1, ServerMs = serverMs, ResultBytes = 64, DropPoints = drop,
    };

    public static Configuration Split(string tensor, string codec, double headMs, double bytes, double tailMs, double drop) => new()
    {
        Id = Configuration.SplitId(tensor, codec), Kind = ConfigurationKind.Split, Split = tensor, Codec = codec,
        DeviceMs = headMs, EncodeMs = 0.5, BytesMean = bytes, ServerDecodeMs = 0.5, ServerMs = tailMs, ResultBytes = 64, DropPoints = drop,
    };

    /// <summary>A slow device; JPEG offload that loses 3 points; a shallow cut with big features, a deep cut with small ones, lossy codecs.</summary>
    public static IReadOnlyList<Configuration> Typical() =>
    [
        Local(400),
        Offload(20_000, 10),
        Split("shallow", "quant:bits=8,entropy=rans", 30, 40_000, 8, 0),
        Split("deep", "quant:bits=8,entropy=rans", 150, 6_000, 2, 0),
        Split("deep", "rans-ifc:bits=4", 150, 2_500, 2, 0.5),
        Split("deep", "rans-ifc:bits=2", 150, 500, 2, 20),
    ];
}
