using Cleave.Evaluation.Tests;
using Cleave.Models.EarlyExit;
using Cleave.Models.Importers.TfLite;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Splitting;
using Cleave.Models.Tests;
using Cleave.Planning.Planner;
using Cleave.Planning.Profiles;
using Cleave.Planning.Serving;
using Cleave.Runtime;
using Cleave.Runtime.Links;
using Cleave.Runtime.Serving;

namespace Cleave.Planning.Tests;

/// <summary>
/// A planned early exit runs on the plan's client: <c>cleave split --plan</c> copies the exit into the cut's folder, the
/// client answers on the device when the exit is confident (nothing sent, the real server executes nothing) and sends
/// the frame when it is not; an exit that is not the planned one is refused.
/// </summary>
[Collection(RealModelCollection.Name)]
public sealed class PlanClientExitTests : IDisposable
{
    private const string Model = "vision/mobilenet_v1_0.25_128_quant.tflite";
    private const string Cut = "MobilenetV1/MobilenetV1/Conv2d_3_pointwise/Relu6";
    private const string Codec = "quant:bits=8";
    private const int Favoured = 3;
    private readonly string _folder = Directory.CreateTempSubdirectory("cleave-plan-exit-client-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A plan fixed on "exit at 0.5" at <see cref="Cut"/>, its exit scoring <see cref="Favoured"/> with <paramref name="gain"/>.</summary>
    private (string ModelPath, PlanDocument Plan, string ExitSource) PlanWithExit(float gain)
    {
        string model = Path.Combine(_folder, "m.onnx");
        if (!File.Exists(model)) TfLiteImporter.Import(TestAssets.Path(Model), model);
        string source = Path.Combine(_folder, $"exit-source-{gain}");
        ModelSplitter.Split(OnnxModel.Load(model), [Cut], sourceName: "m.onnx").Save(source);
        var curve = ExitFixture.Curve(100, maxLoss: 0.01);
        ExitFixture.Write(source, 1001, Favoured, gain, bias: 0, threshold: curve.Threshold, curve);
        var profile = new PlanningProfile
        {
            Model = "m.onnx", ModelSha256 = OnnxModel.Load(model).Sha256, Images = 16, FullTop1 = 0.5, FullMs = 50, PreprocessMs = 0,
            Splits = [new SplitProfile { Tensor = Cut, HeadMs = 2, TailMs = 2, Codecs = [new CodecPoint(Codec, 0.5, 1, 8_000, 8_200, 0.1, 0.1)] }],
        };
        var hardware = new Hardware();
        var configurations = ExitConfigurations.Add(ConfigurationBuilder.Build(profile, hardware), [ExitOption.Load(source)], hardware);
        var decision = SplitPlanner.Decide(configurations, new PlanRequest(LinkProfile.Preset("wifi"), 100));
        var plan = PlanDocument.From(decision, SplitPlanner.AdaptiveSet(configurations, decision), profile, hardware);
        return (model, plan, source);
    }

    [AssetFact(Model, "imagenet-sample")]
    public async Task A_confident_planned_exit_answers_on_the_device_and_an_unsure_one_sends()
    {
        foreach (var (gain, exits) in new[] { (1000f, true), (0f, false) })
        {
            var (model, plan, _) = PlanWithExit(gain);
            string exitId = Configuration.ExitId(Configuration.SplitId(Cut, Codec), 0.5);
            Assert.Equal(0.5, plan.Configuration(exitId).ExitThreshold);
            string splits = Path.Combine(_folder, $"splits-{gain}");
            var written = PlanSplitFolders.Write(model, plan, splits);
            Assert.True(File.Exists(Path.Combine(written[0], ExitManifest.FileName)), "split --plan copies the planned exit into the cut's folder");

            var images = ImageNetSample.FromAssets(TestAssets.Root!).Take(3).ToList();
            await using var server = await PlanBench.StartServerAsync(model, written);
            await using var client = await PlanClient.CreateAsync(new PlanClientOptions
            {
                Server = server.Url, Plan = plan, SplitsDirectory = splits, ModelPath = model, Adaptive = false, Fixed = exitId,
            });
            var results = new List<PlanRequestResult>();
            foreach (var image in images) results.Add(await client.InferAsync(RgbImage.Load(image.Path)));

            Assert.All(results, r => Assert.Equal(exitId, r.Configuration));
            if (exits)
            {
                Assert.All(results, r => Assert.True(r.Exited && r.Bytes == 0 && r.Top1 == Favoured && r.ServerMs == 0, $"{r}"));
                Assert.Equal(0, server.Metrics.Executed(ServingModes.Split));
            }
            else
            {
                Assert.All(results, r => Assert.True(!r.Exited && r.Bytes > 0, $"{r}"));
                Assert.Equal(images.Count, server.Metrics.Executed(ServingModes.Split));
            }
        }
    }

    [AssetFact(Model)]
    public void An_exit_other_than_the_planned_one_is_refused()
    {
        var (model, plan, source) = PlanWithExit(1000f);
        // The source folder's exit replaced after planning (another training): split --plan refuses to copy it.
        ExitFixture.Write(source, 1001, Favoured + 1, 1000f, bias: 0, threshold: 0.5);
        var e = Assert.Throws<InvalidDataException>(() => PlanSplitFolders.Write(model, plan, Path.Combine(_folder, "splits")));
        Assert.Contains("plan again", e.Message);
    }
}
