using System.Text.Json;
using Cleave.Evaluation.Classification;
using Cleave.Evaluation.Datasets;
using Cleave.Evaluation.Reports;
using Cleave.Models.Importers.TfLite;
using Cleave.Models.Onnx;
using Cleave.Models.Splitting;

namespace Cleave.Evaluation.Tests;

public sealed class ClassificationSweepTests
{
    private const string Model = "vision/mobilenet_v1_0.25_128_quant.tflite";
    private const string Cut = "MobilenetV1/MobilenetV1/Conv2d_3_pointwise/Relu6";

    [AssetFact(Model, "imagenet-sample", "vision/imagenet_wnids.txt")]
    public void A_four_image_sweep_measures_codecs_on_one_feature_and_writes_a_self_contained_report()
    {
        string dir = Directory.CreateTempSubdirectory("cleave-sweep-").FullName;
        try
        {
            string onnx = Path.Combine(dir, "m.onnx");
            TfLiteImporter.Import(TestAssets.Path(Model), onnx);
            var images = ImageFolder.Load(TestAssets.Path("imagenet-sample"), TestAssets.Path("vision", "imagenet_wnids.txt")).Take(4).ToList();
            var grid = SweepGrid.Parse(Cut, "quant:bits=4,entropy=rans;quant:bits=2,entropy=rans", "jpeg:q={30,95};local");
            var result = ClassificationSweep.Run(onnx, grid, images);

            Assert.Equal(4, result.Images);
            Assert.Equal(["raw", "quant:bits=4,entropy=rans", "quant:bits=2,entropy=rans", "jpeg:q=30", "jpeg:q=95", "local"], result.Points.Select(p => p.Codec));
            var raw = result.Points[0];
            Assert.Equal((1.0, result.FullTop1), (raw.Agreement, raw.Top1));
            Assert.True(raw.BytesMean > raw.Float32Bytes && raw.BytesP95 == raw.BytesMean, "a raw frame is the float32 tensor plus a header, same size every image");
            Assert.True(result.Points[2].BytesMean < result.Points[1].BytesMean);
            Assert.All(result.Points.Take(3), p => Assert.Equal(raw.HeadMacs, p.HeadMacs));
            Assert.InRange(raw.HeadMacs, 1, result.TotalMacs - 1);
            Assert.True(raw.HeadParams > 0 && raw.HeadParams < result.TotalParams);
            var (jpegLow, jpegHigh, local) = (result.Points[3], result.Points[4], result.Points[5]);
            Assert.True(jpegLow.BytesMean < jpegHigh.BytesMean && jpegLow.BytesMean > 100);
            Assert.Equal((0L, 0.0), (jpegHigh.HeadMacs, jpegHigh.Float32Bytes));
            Assert.Equal((0.0, result.TotalMacs, 1.0, 0.0), (local.BytesMean, local.HeadMacs, local.Agreement, local.MeanKl));

            string report = Path.Combine(dir, "report");
            var files = SweepReport.Write(result, report, "cleave sweep (test)");
            Assert.Equal(6, files.Count);
            string html = File.ReadAllText(Path.Combine(report, "report.html"));
            Assert.Equal(3, html.Split("src=\"data:image/png;base64,iVBORw0KGgo").Length - 1);
            Assert.Contains("Verdict", html);
            Assert.DoesNotContain("src=\"http", html);
            using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(report, "results.json")));
            Assert.Equal(6, json.RootElement.GetProperty("points").GetArrayLength());
            Assert.Equal(result.FullTop1, json.RootElement.GetProperty("full_top1").GetDouble());
            Assert.NotEmpty(json.RootElement.GetProperty("verdict").GetProperty("sentences").EnumerateArray());
            Assert.Equal(7, File.ReadAllLines(Path.Combine(report, "results.csv")).Length);
            var reread = SweepJson.Read(Path.Combine(report, "results.json"), out string? command);
            Assert.Equal("cleave sweep (test)", command);
            Assert.Equal(result.Points, reread.Points);
            Assert.Equal((result.FullTop1, result.TotalMacs, result.Images), (reread.FullTop1, reread.TotalMacs, reread.Images));
            foreach (string png in new[] { SweepReport.AccuracyChart, SweepReport.ParetoChart, SweepReport.ComputeChart })
                Assert.True(new FileInfo(Path.Combine(report, png)).Length > 1000);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [AssetFact(Model, "imagenet-sample", "vision/imagenet_wnids.txt")]
    public void A_split_folder_measures_the_same_as_the_cut_the_sweep_makes_itself()
    {
        string dir = Directory.CreateTempSubdirectory("cleave-sweep-folder-").FullName;
        try
        {
            string onnx = Path.Combine(dir, "m.onnx");
            TfLiteImporter.Import(TestAssets.Path(Model), onnx);
            string folder = Path.Combine(dir, "split");
            ModelSplitter.Split(OnnxModel.Load(onnx), [Cut]).Save(folder);
            var images = ImageFolder.Load(TestAssets.Path("imagenet-sample"), TestAssets.Path("vision", "imagenet_wnids.txt")).Take(3).ToList();
            var grid = SweepGrid.Parse(Cut, "quant:bits=4,entropy=rans", null, folder);
            var result = ClassificationSweep.Run(onnx, grid, images);

            Assert.Equal(4, result.Points.Count);
            var (cutRaw, cutQuant, folderRaw, folderQuant) = (result.Points[0], result.Points[1], result.Points[2], result.Points[3]);
            Assert.Equal($"split:{Cut}", folderRaw.Split);
            Assert.Equal((cutRaw.Top1, cutRaw.Agreement, cutRaw.BytesMean, cutRaw.HeadMacs), (folderRaw.Top1, folderRaw.Agreement, folderRaw.BytesMean, folderRaw.HeadMacs));
            Assert.Equal((cutQuant.Codec, cutQuant.BytesMean, cutQuant.MeanKl), (folderQuant.Codec, folderQuant.BytesMean, folderQuant.MeanKl));
            Assert.Throws<ArgumentException>(() => SweepGrid.Parse(null, null, null, dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
