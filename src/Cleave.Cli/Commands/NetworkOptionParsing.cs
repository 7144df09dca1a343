using Cleave.Cli.Infrastructure;
using Cleave.Runtime.Links;

namespace Cleave.Cli.Commands;

/// <summary>Options <c>client</c> and <c>loadtest</c> share: the emulated link and the image folder.</summary>
internal static class NetworkOptionParsing
{
    public static readonly string[] LinkOptions = ["link", "uplink-kbps", "downlink-kbps", "rtt-ms", "loss", "ber", "ber-burst", "link-seed"];

    public const string LinkHelp =
        "  --link PRESET       emulate a link: lora, ble, 3g, lte, 5g, wifi or none (docs/links.md)\n" +
        "  --uplink-kbps K --rtt-ms R --loss P [--downlink-kbps K]   a custom link (kbit/s, ms, probability per packet);\n" +
        "                      these also override single fields of --link\n" +
        "  --ber P [--ber-burst L] [--link-seed S]   bit errors in every frame sent, each try drawn afresh (seed: --link-seed;\n" +
        "                      loadtest seeds client i with i): independent flips\n" +
        "                      with probability P, or Gilbert-Elliott bursts of mean length L bits at the same mean rate; the\n" +
        "                      request envelope is not damaged. Plain frames are then refused by the server; send resilient frames\n" +
        "                      (--codec \"resilient:planes=1,rows=14/CODEC\") to get answers from concealed ones (docs/resilience.md)";

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

    public static BitErrorModel ParseBitErrors(CommandLine cl)
    {
        if (!cl.Has("ber")) return cl.Has("ber-burst") ? throw new UsageException("--ber-burst needs --ber (the mean bit-error rate)") : BitErrorModel.None;
        try { return new BitErrorModel(cl.GetDouble("ber", 0), cl.GetDouble("ber-burst", 0)); }
        catch (ArgumentOutOfRangeException e) { throw new UsageException($"--ber / --ber-burst: {e.Message.Split(Environment.NewLine)[0]}"); }
    }

    /// <summary>The link emulator's seed (--link-seed), or null for a random one.</summary>
    public static int? ParseLinkSeed(CommandLine cl) => cl.Has("link-seed") ? cl.GetInt("link-seed", 0) : null;

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
