using System.Globalization;

namespace Cleave.Runtime.Links;

/// <summary>
/// A network link as the emulator and the planner see it: uplink and downlink rates, round-trip time and random
/// packet loss. Rates are in kilobits per second (1 kbit = 1000 bits), times in milliseconds, loss as a probability.
/// </summary>
public sealed record LinkProfile(string Name, double UplinkKbps, double DownlinkKbps, double RttMs, double Loss)
{
    /// <summary>No shaping at all: loopback as it is.</summary>
    public static readonly LinkProfile Unlimited = new("none", double.PositiveInfinity, double.PositiveInfinity, 0, 0);

    /// <summary>
    /// Presets with the uplink rates the issue asks for. 3G, LTE and Wi-Fi uplinks are the averages Neurosurgeon
    /// (Kang et al., ASPLOS 2017, Table 2) measured on a phone: 1.1, 5.85 and 18.88 Mbit/s. BLE: 1 Mbit/s, the LE 1M
    /// PHY rate (application throughput is lower; the preset is the optimistic link). LoRa: about 20 kbit/s, the
    /// fastest EU868 data rate class (SF7/250 kHz ~11 kbit/s, FSK 50 kbit/s). 5G: 15 Mbit/s, a typical measured
    /// mid-band uplink. RTTs are typical values for each technology (see docs/links.md); downlinks are set a few times
    /// the uplink because the result coming back is small and rarely the bottleneck.
    /// </summary>
    public static IReadOnlyList<LinkProfile> Presets { get; } =
    [
        new("lora", 20, 20, 1000, 0.0),
        new("ble", 1_000, 1_000, 30, 0.0),
        new("3g", 1_100, 3_000, 150, 0.0),
        new("lte", 5_850, 20_000, 50, 0.0),
        new("5g", 15_000, 100_000, 20, 0.0),
        new("wifi", 18_880, 50_000, 5, 0.0),
    ];

    /// <summary>The preset with this name (case-insensitive), or an exception listing the known ones.</summary>
    public static LinkProfile Preset(string name)
    {
        foreach (var preset in Presets)
            if (string.Equals(preset.Name, name, StringComparison.OrdinalIgnoreCase))
                return preset;
        if (string.Equals(name, Unlimited.Name, StringComparison.OrdinalIgnoreCase))
            return Unlimited;
        throw new ArgumentException(
            $"unknown link preset '{name}'; known: {string.Join(", ", Presets.Select(p => p.Name))}, none");
    }

    /// <summary>Seconds to push <paramref name="bytes"/> through the uplink (0 when unlimited).</summary>
    public double UplinkSeconds(long bytes) => double.IsPositiveInfinity(UplinkKbps) ? 0 : bytes * 8 / (UplinkKbps * 1000);

    /// <summary>Seconds to receive <paramref name="bytes"/> over the downlink (0 when unlimited).</summary>
    public double DownlinkSeconds(long bytes) =>
        double.IsPositiveInfinity(DownlinkKbps) ? 0 : bytes * 8 / (DownlinkKbps * 1000);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Name}: up {UplinkKbps:0.###} kbit/s, down {DownlinkKbps:0.###} kbit/s, rtt {RttMs:0.#} ms, loss {Loss:0.###}");
}
