using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Models.Gating;
using Cleave.Runtime;
using Cleave.Runtime.Client;

namespace Cleave.Cli.Commands;

/// <summary>--gate / --gate-threshold / --gate-budget for the client: the split folder's per-input gate among codec settings.</summary>
internal static class GateOptionParsing
{
    public static readonly string[] ValueOptions = ["gate-threshold", "gate-budget"];

    public const string Help =
        "  --gate           the split's per-input gate (gate.json, `cleave train gate`) picks each image's codec setting\n" +
        "                   from its ladder (cheapest first) instead of --codec\n" +
        "  --gate-threshold T  the gate's margin instead of the calibrated one: 0 = always the cheapest, above 1 = the ceiling (implies --gate)\n" +
        "  --gate-budget B  bytes per request the link allows (e.g. `plan adapt`'s budget): the gate picks among the settings\n" +
        "                   whose calibrated mean frame fits B (implies --gate)";

    public static DeviceGate? Load(CommandLine cl, SplitDirectory? split)
    {
        if (!cl.Has("gate") && !cl.Has("gate-threshold") && !cl.Has("gate-budget")) return null;
        if (split is null) throw new UsageException("--gate needs --split in split mode");
        double? threshold = cl.Get("gate-threshold") is { } t ? Parse(t, "--gate-threshold") : null;
        var gate = DeviceGate.Load(split, threshold)
            ?? throw new UsageException($"'{split.Path}' has no {GateManifest.FileName} (train one with `cleave train gate`)");
        if (cl.Get("gate-budget") is { } b) gate.Ceiling = gate.CeilingForBudget(Parse(b, "--gate-budget"));
        return gate;
    }

    private static double Parse(string text, string option) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v
            : throw new UsageException($"{option}: '{text}' is not a number");
}
