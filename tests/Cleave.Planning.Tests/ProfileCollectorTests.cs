using Cleave.Models.Importers.TfLite;
using Cleave.Models.Preprocessing;
using Cleave.Models.Tests;
using Cleave.Planning.Planner;
using Cleave.Planning.Profiles;
using Cleave.Runtime.Links;

namespace Cleave.Planning.Tests;

[Collection(RealModelCollection.Name)]
public sealed class ProfileCollectorTests
{
    private const string Model = "vision/mobilenet_v1_0.25_128_quant.tflite";

    [AssetFact(Model, "imagenet-sample", "vision/imagenet_wnids.txt")]
    public void CalibrationOnRealImagesGivesAUsableProfileAndPlan()
    {
        string onnx = Path.Combine(Path.GetTempPath(), $"cleave-plan-test-{Guid.NewGuid():N}.onnx");
        try
        {
            TfLiteImporter.Import(TestAssets.Path(Model), onnx);
            var images = ImageNetSample.FromAssets(TestAssets.Root!).Take(3).ToList();
            var options = new ProfileOptions { MaxSplits = 2, Codecs = ["quant:bits=8,entropy=rans", "rans-ifc:bits=2"], JpegQualities = [75], LatencyRuns = 3 };
            var profile = ProfileCollector.Collect(onnx, images, options);

            Assert.Equal(3, profile.Images);
            // What makes it comparable with other models' profiles (cleave plan --models).
            Assert.Equal(1001, profile.Classes);
            Assert.Equal(4, profile.InputShape.Count);
            Assert.Equal(2, profile.InputShape.Count(d => d == 128));
            Assert.Equal(ProfileCollector.CalibrationHash(images), profile.CalibrationSha256);
            Assert.NotEqual(profile.CalibrationSha256, ProfileCollector.CalibrationHash(images.Take(2).ToList()));
            Assert.InRange(profile.Splits.Count, 1, 2);
            Assert.True(profile.FullMs > 0 && profile.PreprocessMs > 0);
            foreach (var s in profile.Splits)
            {
                Assert.InRange(s.HeadMacShare, 0.05, 0.95);
                Assert.True(s.HeadMs > 0 && s.TailMs > 0);
                var q8 = s.Codecs[0];
                var q2 = s.Codecs[1];
                Assert.True(q8.BytesMean < s.Fp32Bytes / 3.0, $"8-bit frames ({q8.BytesMean} B) should be about 4x below float32 ({s.Fp32Bytes} B)");
                Assert.True(q2.BytesMean < q8.BytesMean);
                Assert.Equal(1.0, q8.Agreement); // 8 bits on 3 images: no top-1 changes
            }
            var jpeg = Assert.Single(profile.Offload);
            Assert.InRange(jpeg.BytesMean, 500, 128 * 128 * 3);

            // The plan over presets: a profile-fast device on LoRa stays local.
            var configurations = ConfigurationBuilder.Build(profile, new Hardware());
            Assert.Equal(1 + 1 + 2 * profile.Splits.Count, configurations.Count);
            var lora = SplitPlanner.Decide(configurations, new PlanRequest(LinkProfile.Preset("lora"), 1));
            Assert.Equal(Configuration.LocalId, lora.Chosen.Configuration.Id);
        }
        finally
        {
            File.Delete(onnx);
        }
    }
}
