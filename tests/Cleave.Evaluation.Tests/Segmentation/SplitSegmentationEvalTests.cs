using Cleave.Codecs;
using Cleave.Evaluation.Segmentation;
using Cleave.Models.Importers.TfLite;
using Cleave.Models.Onnx;
using Cleave.Models.Profiling;
using Xunit.Abstractions;

namespace Cleave.Evaluation.Tests.Segmentation;

public sealed class SplitSegmentationEvalTests(ITestOutputHelper output)
{
    [NeedsAssetsFact("vision/deeplabv3_mnv2_pascal_quant.tflite", "vision/bird_segmentation.bmp", "vision/bird_segmentation_mask.bmp")]
    public void RawCodecAtAMidNetworkCutScoresExactlyLikeTheUnsplitModel()
    {
        string dir = Directory.CreateTempSubdirectory("cleave-seg-").FullName;
        try
        {
            string model = TfLiteImporter.Import(TaskAssets.Path("vision", "deeplabv3_mnv2_pascal_quant.tflite"), Path.Combine(dir, "deeplab.onnx")).OutputPath;
            var sample = new SegmentationSample(TaskAssets.Path("vision", "bird_segmentation.bmp"), TaskAssets.Path("vision", "bird_segmentation_mask.bmp"));
            var results = SplitSegmentationEval.Run(model, "MobilenetV2/expanded_conv_12/add",
                [FeatureCodecs.Create("raw"), FeatureCodecs.Create("quant:bits=8,entropy=rans")], [sample], ignoreLabels: [1, 2, 255]);
            var (raw, q8) = (results[0], results[1]);
            output.WriteLine($"unsplit mIoU {raw.FullMeanIoU:F4}; raw {raw.MeanIoU:F4} ({raw.BytesMean} B); 8-bit {q8.MeanIoU:F4} ({q8.BytesMean} B, agreement {q8.PixelAgreement:P2})");

            Assert.True(raw.FullMeanIoU > 0.9, $"unsplit mean IoU {raw.FullMeanIoU}");
            Assert.Equal(raw.FullMeanIoU, raw.MeanIoU);
            Assert.Equal(1.0, raw.PixelAgreement);
            Assert.InRange(raw.BytesMean - raw.Float32Bytes, 1, 64); // [1,96,33,33] float32 plus the frame header
            Assert.Equal(96 * 33 * 33 * 4, raw.Float32Bytes);
            Assert.True(q8.BytesMean * 3 < raw.BytesMean);
            Assert.True(q8.PixelAgreement > 0.98, $"8-bit agreement {q8.PixelAgreement}");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void LabelMapTakesIntegerLabelsAsTheyAreAndArgMaxesScoresOverChannels()
    {
        var labels = SplitSegmentationEval.LabelMap(new HostTensor(OnnxElementType.Int64, [1, 2, 2], new long[] { 0, 3, 3, 1 }), out int w, out int h);
        Assert.Equal((2, 2), (w, h));
        Assert.Equal([0, 3, 3, 1], labels);

        // 3 classes over a 1x2 map: pixel 0 is class 2, pixel 1 class 0.
        var scores = new float[] { 0.1f, 0.9f, /* c1 */ 0.2f, 0.0f, /* c2 */ 0.7f, 0.1f };
        Assert.Equal([2, 0], SplitSegmentationEval.LabelMap(new HostTensor(OnnxElementType.Float, [1, 3, 1, 2], scores), out w, out h));
        Assert.Equal((2, 1), (w, h));
        Assert.Throws<NotSupportedException>(() => SplitSegmentationEval.LabelMap(new HostTensor(OnnxElementType.Float, [2, 2], new float[4]), out _, out _));
    }
}
