using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Codecs;
using Cleave.Codecs.Npy;

namespace Cleave.Cli.Commands;

public sealed class CodecNcolsCommand : ICommand
{
    public string Name => "codec ncols";
    public string Summary => "rans-ifc: the cost model's predicted vs actual size for every reshape width N, and the N it picks";
    public string Usage => """
        usage: cleave codec ncols <in.npy> [--codec SPEC] [--widths N,N,...] [--json]
          --codec SPEC   a rans-ifc spec (default rans-ifc:bits=8); with ncols=N fixed, N is the chosen width
          --widths       widths to try: a list and ranges of 1..4095 ("1,56,3136", "1-64") or "all" (every width,
                         the exhaustive search); default: the encoder's candidates, powers of two to 2048 and the
                         tensor's trailing dimension products
          --json         one JSON object: dense and per-width predicted/actual bytes by stream, chosen and best width
        Every width is really coded, so this takes a few times as long as encoding the tensor once per width.
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["codec", "widths"], ["json"]);
        string input = cl.PositionalAt(0, "input .npy file");
        var codec = FeatureCodecs.Create(cl.Get("codec") ?? "rans-ifc:bits=8") as RansIfcCodec
            ?? throw new UsageException("--codec must be a rans-ifc spec, e.g. rans-ifc:bits=8");
        int[]? widths = cl.Get("widths") is { } list ? ParseWidths(list) : null;

        var (values, shape) = NpyFile.ReadFloat32(input);
        if (values.Length == 0) throw new UsageException($"{input} holds an empty tensor");
        var analysis = ColumnWidthAnalysis.Run(codec, values, shape, widths);
        if (cl.Has("json")) WriteJson(analysis, codec, input, shape);
        else WriteTable(analysis, codec, input, shape, full: widths is null || widths.Length <= 64);
        return 0;
    }

    /// <summary>"1,16,3136", ranges "1-4095", or "all" (every width 1..4095: the exhaustive search).</summary>
    private static int[] ParseWidths(string list)
    {
        var widths = new SortedSet<int>();
        foreach (string part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] ends = part.Equals("all", StringComparison.OrdinalIgnoreCase) ? ["1", "4095"] : part.Split('-', 2);
            int first = Width(ends[0]), last = ends.Length == 2 ? Width(ends[1]) : first;
            if (last < first) throw new UsageException($"--widths: range '{part}' runs backwards");
            for (int n = first; n <= last; n++) widths.Add(n);
        }
        if (widths.Count == 0) throw new UsageException("--widths lists no width");
        return [.. widths];
    }

    private static int Width(string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 4095
            ? n : throw new UsageException($"--widths: '{text}' is not a width in 1..4095");

    /// <param name="full">Print every width; otherwise (an exhaustive search) only dense, the encoder's choice, the
    /// best and the ten best widths, and the largest model error.</param>
    private static void WriteTable(ColumnWidthAnalysis a, RansIfcCodec codec, string input, TensorShape shape, bool full)
    {
        Console.WriteLine($"{input}: shape {shape}, {a.Elements:N0} elements; {codec.Spec}: background symbol {a.Background}, " +
            $"{a.Foreground:N0} other symbols ({100.0 * a.Foreground / a.Elements:F1} %)");
        Console.WriteLine($"{"N",6} {"predicted B",12} {"actual B",10} {"error",8}   {"counts p/a",15} {"gaps p/a",17} {"values p/a",17}");
        var shown = full ? a.Widths.Prepend(a.Dense)
            : a.Widths.OrderBy(t => t.Actual.Total).Take(10).Append(a.Dense).Append(a.Chosen).Distinct().OrderBy(t => t.Columns);
        foreach (var t in shown)
        {
            string mark = (t == a.Chosen ? " chosen" : "") + (t == a.Best ? " best" : "");
            Console.WriteLine($"{(t.Columns == 0 ? "dense" : t.Columns.ToString(CultureInfo.InvariantCulture)),6} {t.Predicted.Total,12:F0} {t.Actual.Total,10:F0} " +
                $"{t.RelativeError,8:P2}   {Pair(t.Predicted.RowCounts, t.Actual.RowCounts),15} {Pair(t.Predicted.ColumnGaps, t.Actual.ColumnGaps),17} " +
                $"{Pair(t.Predicted.Values, t.Actual.Values),17}{mark}");
        }
        if (!full)
            Console.WriteLine($"({a.Widths.Count} widths tried; largest model error {a.Widths.Max(t => Math.Abs(t.RelativeError)):P2})");
        string chosen = a.ChosenLayout == RansIfcLayout.Dense ? "dense" : $"CSR N={a.ChosenColumns}";
        string best = a.Best == a.Dense ? "dense" : $"CSR N={a.BestColumns}";
        Console.WriteLine($"chosen {chosen}: {a.Chosen.Actual.Total:F0} B payload; exhaustive best {best}: {a.Best.Actual.Total:F0} B " +
            $"(chosen/best {a.Chosen.Actual.Total / a.Best.Actual.Total:F4}). Bytes are payload bytes; the frame adds its header and CRC.");
    }

    private static string Pair(double predicted, double actual) => $"{predicted:F0}/{actual:F0}";

    private static void WriteJson(ColumnWidthAnalysis a, RansIfcCodec codec, string input, TensorShape shape) => Json.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("input", input);
        w.WriteString("codec", codec.Spec);
        w.WriteString("shape", shape.ToString());
        w.WriteNumber("elements", a.Elements);
        w.WriteNumber("background_symbol", a.Background);
        w.WriteNumber("foreground", a.Foreground);
        w.WriteString("chosen_layout", a.ChosenLayout.ToString().ToLowerInvariant());
        w.WriteNumber("chosen_ncols", a.ChosenColumns);
        w.WriteNumber("chosen_actual_bytes", a.Chosen.Actual.Total);
        w.WriteNumber("best_ncols", a.Best == a.Dense ? 0 : a.BestColumns);
        w.WriteNumber("best_actual_bytes", a.Best.Actual.Total);
        w.WritePropertyName("dense");
        WriteTrial(w, a.Dense);
        w.WriteStartArray("widths");
        foreach (var t in a.Widths) WriteTrial(w, t);
        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static void WriteTrial(System.Text.Json.Utf8JsonWriter w, ColumnWidthTrial t)
    {
        w.WriteStartObject();
        w.WriteNumber("ncols", t.Columns);
        w.WriteNumber("predicted_bytes", t.Predicted.Total);
        w.WriteNumber("actual_bytes", t.Actual.Total);
        w.WriteNumber("relative_error", t.RelativeError);
        foreach (var (name, size) in new[] { ("predicted", t.Predicted), ("actual", t.Actual) })
        {
            w.WriteStartObject(name);
            w.WriteNumber("header", size.Header);
            w.WriteNumber("row_counts", size.RowCounts);
            w.WriteNumber("column_gaps", size.ColumnGaps);
            w.WriteNumber("values", size.Values);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }
}
