using System.Text.Json;

namespace Cleave.Cli.Tests;

/// <summary>The tables `inspect` and `eval` print: aligned whatever the names' length, names whole (they paste back), `_preact` twins folded.</summary>
public sealed class TableTests
{
    [AssetFact("vision/mobilenet_v1_0.25_128_quant.tflite", "imagenet-sample")]
    public void Eval_prints_the_split_name_whole_and_aligned()
    {
        const string Cut = "MobilenetV1/MobilenetV1/Conv2d_3_pointwise/Relu6";
        using var dir = new TempFolder();
        var (code, _, stderr) = CliRunner.Run("import", TestAssets.Path("vision/mobilenet_v1_0.25_128_quant.tflite"), "-o", dir.File("m.onnx"));
        Assert.True(code == 0, stderr);
        (code, var table, stderr) = CliRunner.Run("eval", "--model", dir.File("m.onnx"), "--data", TestAssets.Path("imagenet-sample"),
            "--split", Cut, "--codec", "raw;quant:bits=8,entropy=rans", "--limit", "2");
        Assert.True(code == 0, stderr);
        var lines = table.ReplaceLineEndings("\n").Split('\n');
        var rows = lines.Where(l => l.StartsWith(Cut + " ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, rows.Count);
        int top1 = lines.Single(l => l.StartsWith("split ", StringComparison.Ordinal)).IndexOf("top-1", StringComparison.Ordinal);
        Assert.All(rows, r => Assert.True(char.IsDigit(r[top1 + 4]), r)); // the top-1 figures end under the header
    }

    [AssetFact("vision/mobilenet_v2_1.0_224_quant.tflite")]
    public void Rows_align_print_whole_names_and_fold_preact_twins()
    {
        using var dir = new TempFolder();
        var (code, _, stderr) = CliRunner.Run("import", TestAssets.Path("vision/mobilenet_v2_1.0_224_quant.tflite"), "-o", dir.File("m.onnx"));
        Assert.True(code == 0, stderr);
        (code, var table, stderr) = CliRunner.Run("inspect", dir.File("m.onnx"));
        Assert.True(code == 0, stderr);
        (code, var json, _) = CliRunner.Run("inspect", dir.File("m.onnx"), "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(json);
        var names = doc.RootElement.GetProperty("split_points").EnumerateArray()
            .Select(p => string.Join(",", p.GetProperty("tensors").EnumerateArray().Select(t => t.GetString()))).ToHashSet();

        var lines = table.ReplaceLineEndings("\n").Split('\n');
        int header = Array.FindIndex(lines, l => l.TrimStart().StartsWith("#  kind", StringComparison.Ordinal));
        Assert.True(header > 0, table);
        var rows = lines.Skip(header + 1).TakeWhile(l => l.Length > 0 && char.IsDigit(l.TrimStart()[0])).ToList();
        Assert.True(rows.Count > 20, table);
        int shapeColumn = lines[header].IndexOf("shape", StringComparison.Ordinal);
        foreach (string row in rows)
        {
            // Every row's shape starts in the shape column, long names or not.
            Assert.Equal('[', row[shapeColumn]);
            Assert.Equal(' ', row[shapeColumn - 1]);
            string name = row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2];
            Assert.Contains(name, names); // pasteable: exactly a split point's tensors
            Assert.False(name.EndsWith("_preact", StringComparison.Ordinal) && names.Contains(name[..^"_preact".Length]), $"{name} is not folded");
        }
        Assert.Contains(rows, r => r.TrimEnd().EndsWith("_preact", StringComparison.Ordinal)); // the 'also' column marks the fold
        Assert.Contains("MobilenetV2/expanded_conv_1/project/add_fold,MobilenetV2/expanded_conv_2/project/add_fold", table, StringComparison.Ordinal);
    }
}
