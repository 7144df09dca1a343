using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Runtime;
using Cleave.Runtime.Client;

namespace Cleave.Cli.Commands;

/// <summary>--exit / --exit-threshold, shared by client and loadtest: the split folder's early exit.</summary>
internal static class ExitOptionParsing
{
    public const string Help =
        "  --exit           answer on the device when the split's early exit (exit.json) is confident enough: nothing\n" +
        "                   is sent for such an image (counted as exited, its frame as bytes saved)\n" +
        "  --exit-threshold T  the exit's confidence threshold instead of the calibrated one (implies --exit)";

    public static DeviceExit? Load(CommandLine cl, SplitDirectory? split)
    {
        if (!cl.Has("exit") && !cl.Has("exit-threshold")) return null;
        if (split is null) throw new UsageException("--exit needs --split in split mode");
        double? threshold = cl.Get("exit-threshold") is { } t ? double.Parse(t, CultureInfo.InvariantCulture) : null;
        return DeviceExit.Load(split, threshold)
            ?? throw new UsageException($"'{split.Path}' has no {Cleave.Models.EarlyExit.ExitManifest.FileName} (train one with `cleave train exit`)");
    }
}
