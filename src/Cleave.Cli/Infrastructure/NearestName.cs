namespace Cleave.Cli.Infrastructure;

/// <summary>
/// "Did you mean": the known name closest to a mistyped one, so `cleave inspct` and `eval --modle` name the fix
/// instead of leaving the user to scan a list.
/// </summary>
public static class NearestName
{
    /// <summary>
    /// The candidate with the smallest case-insensitive edit distance to <paramref name="typed"/>, or null when even
    /// the best is too far to be a typo (more than a third of the typed length, at least 2 edits allowed). A candidate
    /// that starts with what was typed (three letters or more) counts as one edit away, so `--mod` finds `--model`.
    /// </summary>
    public static string? Find(string typed, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string candidate in candidates)
        {
            int d = candidate.StartsWith(typed, StringComparison.OrdinalIgnoreCase) && typed.Length >= 3
                ? 1
                : Distance(typed.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (d < bestDistance) { best = candidate; bestDistance = d; }
        }
        return bestDistance <= Math.Max(2, typed.Length / 3) ? best : null;
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours each cost 1.</summary>
    public static int Distance(string a, string b)
    {
        // Names are short (a verb or an option), so the full table is cheap.
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }
}
