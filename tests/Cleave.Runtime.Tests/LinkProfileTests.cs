using Cleave.Runtime.Links;

namespace Cleave.Runtime.Tests;

public sealed class LinkProfileTests
{
    [Theory]
    [InlineData("lora", 20)]
    [InlineData("BLE", 1_000)]
    [InlineData("3g", 1_100)]
    [InlineData("lte", 5_850)]
    [InlineData("5g", 15_000)]
    [InlineData("wifi", 18_880)]
    public void Presets_have_the_documented_uplinks(string name, double kbps) =>
        Assert.Equal(kbps, LinkProfile.Preset(name).UplinkKbps);

    [Fact]
    public void Uplink_time_is_bits_over_rate()
    {
        // 125,000 bytes = 1 Mbit: one second at 1 Mbit/s.
        Assert.Equal(1.0, LinkProfile.Preset("ble").UplinkSeconds(125_000), 9);
        Assert.Equal(0.0, LinkProfile.Unlimited.UplinkSeconds(125_000));
    }

    [Fact]
    public void Unknown_preset_names_the_known_ones()
    {
        var error = Assert.Throws<ArgumentException>(() => LinkProfile.Preset("dialup"));
        Assert.Contains("lte", error.Message);
    }
}
