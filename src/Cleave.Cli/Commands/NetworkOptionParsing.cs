using Cleave.Cli.Infrastructure;
using Cleave.Runtime.Links;

namespace Cleave.Cli.Commands;

/// <summary>Options <c>client</c> and <c>loadtest</c> share: the emulated link and the image folder.</summary>
internal static class NetworkOptionParsing
{
    public static readonly string[] LinkOptions = ["link", "uplink-kbps", "downlink-kbps", "rtt-ms", "loss"];

    public const string LinkHelp =
        "  --link PRESET       emulate a link: lora, ble, 3g, lte, 5g, wifi or none (docs/links.md)\n" +
        "  --uplink-kbps K --rtt-ms R --loss P [--downlink-kbps K]   a custom link (kbit/s, ms, probability per packet);\n" +
        "                      these also override single fields of --link";

    public const string ImagesHelp =
        "  --images DIR        image folder (.jpg .jpeg .png .bmp .webp .gif), taken in name order";

    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif"];

    public static LinkProfile ParseLink(CommandLine cl)
    {
        var link = cl.Get("link") is string name ? LinkProfile.Preset(name) : LinkProfile.Unlimited;
        if (!cl.Has("uplink-kbps") && !cl.Has("rtt-ms") && !cl.Has("loss") && !cl.Has("downlink-kbps")) return link;
        double up = cl.GetDouble("uplink-kbps", link.UplinkKbps);
        double down = cl.GetDouble("downlink-kbps", cl.Has("uplink-kbps") && !cl.Has("link") ? up : link.DownlinkKbps);
        double rtt = cl.GetDouble("rtt-ms", link.RttMs);
        double loss = cl.GetDouble("loss", link.Loss);
        if (!(up > 0) || !(down > 0)) throw new UsageException("--uplink-kbps and --downlink-kbps must be positive");
        if (rtt < 0) throw new UsageException("--rtt-ms must not be negative");
        if (loss is < 0 or >= 1) throw new UsageException("--loss is a probability in [0, 1)");
        return new LinkProfile(cl.Has("link") ? link.Name + "*" : "custom", up, down, rtt, loss);
    }

    /// <summary>Image files in the folder (by extension), in name order, at most <paramref name="limit"/>.</summary>
    public static IReadOnlyList<string> Images(string folder, int limit)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"image folder '{folder}' does not exist");
        var images = Directory.GetFiles(folder)
            .Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal).Take(limit).ToList();
        return images.Count > 0 ? images : throw new ArgumentException($"no images (jpg, png, bmp, webp, gif) in '{folder}'");
    }
}
