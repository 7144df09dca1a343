using Cleave.Codecs;
using Cleave.Evaluation.Datasets;
using Cleave.Evaluation.Resilience;
using Cleave.Models.Importers.TfLite;
using Cleave.Models.Onnx;
using Cleave.Models.Splitting;
using Cleave.Runtime.Links;

namespace Cleave.Evaluation.Tests.Resilience;

/// <summary>The bit-error study's error-aware column: another tail on the same damaged bytes, checked against the plain tail it must equal when it is that tail.</summary>
public sealed class BitErrorStudyTests
{
    private const string Model = "vision/mobilenet_v1_0.25_128_quant.tflite";
    private const string Cut = "MobilenetV1/MobilenetV1/Conv2d_3_pointwise/Relu6";

    [AssetFact(Model, "imagenet-sample", "vision/imagenet_wnids.txt")]
    public void An_error_aware_tail_that_is_the_plain_tail_answers_exactly_as_interpolation_does()
    {
        string dir = Directory.CreateTempSubdirectory("cleave-ber-study-").FullName;
        try
        {
            string onnx = Path.Combine(dir, "m.onnx");
            TfLiteImporter.Import(TestAssets.Path(Model), onnx);
            var split = ModelSplitter.Split(new SplitAnalysis(OnnxModel.Load(onnx)), [Cut], "m.onnx");
            string tail = Path.Combine(dir, "tail.onnx"), head = Path.Combine(dir, "head.onnx");
            split.Tail.Save(tail);
            split.Head.Save(head);
            var images = ImageFolder.Load(TestAssets.Path("imagenet-sample"), TestAssets.Path("vision", "imagenet_wnids.txt")).Take(6).ToList();
            BitErrorModel[] channels = [new(1e-3), new(1e-3, 64)];

            var result = BitErrorStudy.Run(onnx, Cut, "quant:bits=4,entropy=rans", "planes=1,rows=4", channels, images, errorAwareTail: tail);

            Assert.Equal(result.ResilientTop1, result.ErrorAwareTop1);
            int interp = result.Modes.ToList().IndexOf(ConcealmentMode.Interpolate);
            Assert.All(result.Rows, r => Assert.Equal(r.ResilientTop1[interp], r.ErrorAwareTop1));
            Assert.True(result.Rows[0].GroupsConcealedPercent > 0, "BER 1e-3 conceals groups, so the column was computed on damaged tensors");

            var plain = BitErrorStudy.Run(onnx, Cut, "quant:bits=4,entropy=rans", "planes=1,rows=4", channels, images);
            Assert.Null(plain.ErrorAwareTop1);
            Assert.All(plain.Rows, r => Assert.Null(r.ErrorAwareTop1));
            Assert.Equal(plain.Rows.Select(r => r.ResilientTop1[interp]), result.Rows.Select(r => r.ResilientTop1[interp]));
            Assert.Throws<ArgumentException>(() => BitErrorStudy.Run(onnx, Cut, "quant:bits=4,entropy=rans", "planes=1,rows=4", channels, images, errorAwareTail: head));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
