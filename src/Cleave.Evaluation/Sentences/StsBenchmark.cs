using System.Globalization;

namespace Cleave.Evaluation.Sentences;

/// <summary>One STS pair: two sentences and the human similarity score (0-5).</summary>
public sealed record StsPair(string First, string Second, double Gold);

/// <summary>
/// Reads the STS Benchmark's tab-separated files (sts-train/dev/test.csv): genre, file, year, id, score, sentence 1,
/// sentence 2, and on some rows two source columns after them. Fields are not quoted (sentences keep their quotes).
/// </summary>
public static class StsBenchmark
{
    public static IReadOnlyList<StsPair> Load(string path, int limit = int.MaxValue)
    {
        var pairs = new List<StsPair>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (pairs.Count >= limit) break;
            if (line.Length == 0) continue;
            var fields = line.Split('\t');
            if (fields.Length < 7)
                throw new FormatException($"{path}:{lineNumber}: expected at least 7 tab-separated fields, got {fields.Length}");
            if (!double.TryParse(fields[4], NumberStyles.Float, CultureInfo.InvariantCulture, out double gold) || gold is < 0 or > 5)
                throw new FormatException($"{path}:{lineNumber}: the score '{fields[4]}' is not a number in [0, 5]");
            pairs.Add(new StsPair(fields[5].Trim(), fields[6].Trim(), gold));
        }
        return pairs;
    }
}
