namespace Cleave.Cli.Infrastructure;

/// <summary>
/// One spelling per idea across verbs: `--split`/`--splits`, `--codec`/`--codecs`, `--baseline`/`--baselines` (and
/// any other singular/plural pair) are the same option wherever a verb knows only one of the two, so a user who
/// learnt `sweep --codecs` is not refused by `eval --codecs`.
/// </summary>
internal static class OptionAliases
{
    /// <summary>
    /// The option a verb declares for <paramref name="name"/>: the name itself when declared (a verb that knows both
    /// forms, like `client --split DIR` and `client --splits DIR`, keeps them apart), else its singular or plural twin
    /// when exactly that one is declared (and `--split` for a verb that names the cut `--at`), else the name unchanged
    /// (reported as unknown by the caller).
    /// </summary>
    public static string Resolve(string name, IReadOnlyCollection<string> valueOptions, IReadOnlyCollection<string> flags)
    {
        if (Declared(name, valueOptions, flags)) return name;
        // The cut tensor is --split in eval/sweep/demo but --at in split/dump/train bottleneck.
        if (name is "split" or "splits" && Declared("at", valueOptions, flags)) return "at";
        string twin = name.EndsWith('s') ? name[..^1] : name + "s";
        return twin.Length > 1 && Declared(twin, valueOptions, flags) ? twin : name;
    }

    private static bool Declared(string name, IReadOnlyCollection<string> valueOptions, IReadOnlyCollection<string> flags) =>
        valueOptions.Contains(name) || flags.Contains(name);
}
