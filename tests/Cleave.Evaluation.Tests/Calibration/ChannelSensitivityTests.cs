using Cleave.Codecs;
using Cleave.Evaluation.Calibration;
using Cleave.Models.Importers.TfLite;

namespace Cleave.Evaluation.Tests.Calibration;

public sealed class ChannelSensitivityTests
{
    private const string Model = "vision/mobilenet_v1_0.25_128_quant.tflite";
    private const string Cut = "MobilenetV1/MobilenetV1/Conv2d_3_pointwise/Relu6";

    [AssetFact(Model, "imagenet-sample")]
    public void Noise_in_each_channel_gives_a_weight_per_channel_and_gains_that_fit_the_cut()
    {
        string dir = Directory.CreateTempSubdirectory("cleave-calibrate-").FullName;
        try
        {
            string onnx = Path.Combine(dir, "m.onnx");
            TfLiteImporter.Import(TestAssets.Path(Model), onnx);
            var images = Directory.EnumerateFiles(TestAssets.Path("imagenet-sample")).Order(StringComparer.Ordinal).Take(2).ToList();
            var result = ChannelSensitivity.Measure(onnx, Cut, images);

            Assert.Equal(2, result.Images);
            int channels = result.Shape[^3];
            Assert.Equal(channels, result.Sensitivity.Count);
            Assert.All(result.Sensitivity, w => Assert.True(w >= 0 && double.IsFinite(w)));
            // The tail does not weigh every channel alike (that is the point of measuring it).
            Assert.True(result.Sensitivity.Max() > 2 * result.Sensitivity.Where(w => w > 0).Min(), string.Join(", ", result.Sensitivity));
            // Same seed, same images: the measurement is repeatable.
            Assert.Equal(result.Sensitivity, ChannelSensitivity.Measure(onnx, Cut, images).Sensitivity);

            var gains = result.Gains();
            Assert.Equal(channels, gains.Channels);
            var codec = FeatureCodecs.Create("rans-ifc:bits=3,levels=6,clip=3,ctx=2d,gains=" + gains);
            var shape = new TensorShape([.. result.Shape]);
            var values = new float[shape.ElementCount];
            for (int i = 0; i < values.Length; i++) values[i] = (i % 7) * 0.5f;
            Assert.Equal(values.Length, FeatureFrame.Decode(codec.Encode(values, shape), out _).Length);
            Assert.Throws<ArgumentException>(() => ChannelSensitivity.Measure(onnx, Cut, []));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
