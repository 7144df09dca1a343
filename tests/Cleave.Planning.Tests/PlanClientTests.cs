using Cleave.Models.Importers.TfLite;
using Cleave.Models.Preprocessing;
using Cleave.Models.Tests;
using Cleave.Planning.Planner;
using Cleave.Planning.Profiles;
using Cleave.Planning.Serving;
using Cleave.Runtime.Links;

namespace Cleave.Planning.Tests;

/// <summary>A real server hosting two cuts on a loopback port, real clients over the emulated link: nothing is mocked.</summary>
[Collection(RealModelCollection.Name)]
public sealed class PlanClientTests
{
    private const string Model = "vision/mobilenet_v2_1.0_224_quant.tflite";
    private const string Shallow = "MobilenetV2/expanded_conv_6/project/add_fold";
    private const string Deep = "MobilenetV2/expanded_conv_13/project/add_fold";

    /// <summary>
    /// A slow device (planned head times well above what the heads take here, so the emulated device runs exactly
    /// at them) and the real frame sizes of these codecs at these cuts: on Wi-Fi the shallow cut (10 ms, 10.7 KB)
    /// wins, on BLE the deep 3-bit cut (60 ms, 1.5 KB), and local (200 ms) only on LoRa.
    /// </summary>
    private static PlanningProfile Profile(string sha256) => new()
    {
        Model = "mnv2.onnx", ModelSha256 = sha256, Images = 64, FullTop1 = 0.86, FullMs = 200, PreprocessMs = 0,
        Splits =
        [
            new SplitProfile { Tensor = Shallow, HeadMs = 10, TailMs = 4, Codecs = [new CodecPoint("quant:bits=8,entropy=rans", 0.86, 1, 10_715, 11_000, 0.2, 0.2)] },
            new SplitProfile { Tensor = Deep, HeadMs = 60, TailMs = 1, Codecs = [new CodecPoint("rans-ifc:bits=3", 0.86, 1, 1_539, 1_700, 0.2, 0.1)] },
        ],
    };

    [AssetFact(Model, "imagenet-sample", "vision/imagenet_wnids.txt")]
    public async Task AdaptiveClientMovesToTheDeepCutWhenTheLinkDropsAndBeatsEveryFixedConfiguration()
    {
        string folder = Directory.CreateTempSubdirectory("cleave-plan-client-").FullName;
        try
        {
            string model = Path.Combine(folder, "mnv2.onnx");
            TfLiteImporter.Import(TestAssets.Path(Model), model);
            var profile = Profile(Models.Onnx.OnnxModel.Load(model).Sha256);
            var configurations = ConfigurationBuilder.Build(profile, new Hardware());
            var decision = SplitPlanner.Decide(configurations, new PlanRequest(LinkProfile.Preset("wifi"), 1));
            var plan = PlanDocument.From(decision, SplitPlanner.AdaptiveSet(configurations, decision), profile, new Hardware());
            Assert.Equal(Configuration.SplitId(Shallow, "quant:bits=8,entropy=rans"), plan.Chosen);
            Assert.Equal([Shallow, Deep], plan.HostedSplits);

            string splits = Path.Combine(folder, "splits");
            var written = PlanSplitFolders.Write(model, plan, splits);
            var (images, full) = PlanBench.Load(model, ImageNetSample.FromAssets(TestAssets.Root!).Take(8).ToList());
            await using var server = await PlanBench.StartServerAsync(model, written);
            var options = new PlanClientOptions
            {
                Server = server.Url, Plan = plan, SplitsDirectory = splits, ModelPath = model, LinkSeed = 1, ProbeEvery = 3,
                MinRequestsBetweenSwitches = 2, PlannedDeviceTimes = true,
            };
            // 16 requests on BLE: after the switch (a few requests in) the deep cut saves ~24 ms a request, a margin that
            // machine noise (the suite runs test projects in parallel) cannot flip; with 8 it was within 1 %.
            LinkPhase[] schedule = [new(LinkProfile.Preset("wifi"), 8), new(LinkProfile.Preset("ble"), 16)];
            var runs = await PlanBench.RunLockstepAsync(
            [
                new PlanBench.LockstepRun("adaptive", options, schedule),
                new PlanBench.LockstepRun("shallow", options with { Adaptive = false }, schedule),
                new PlanBench.LockstepRun("deep", options with { Adaptive = false, Fixed = Configuration.SplitId(Deep, "rans-ifc:bits=3") }, schedule),
            ], images, full);
            var adaptive = runs[0];
            var fixedShallow = runs[1];
            var fixedDeep = runs[2];

            // The server hosts both cuts: the adaptive client used each, and every answer matches the unsplit model's class.
            Assert.Contains(adaptive.Results, r => r.Configuration == Configuration.SplitId(Shallow, "quant:bits=8,entropy=rans"));
            Assert.Contains(adaptive.Results, r => r.Configuration == Configuration.SplitId(Deep, "rans-ifc:bits=3"));
            for (int i = 0; i < adaptive.Requests; i++) Assert.Equal(full[i % images.Count], adaptive.Results[i].Top1);
            Assert.True(adaptive.Switches.Count == 1, string.Join("; ", adaptive.Switches));
            var toDeep = adaptive.Switches[0];
            Assert.InRange(toDeep.Request, 9, 15); // within a few requests of the change at request 9 (rate window, confirmations)
            Assert.Empty(fixedShallow.Switches);

            // Shallow on Wi-Fi, deep on BLE: over the whole run the adaptive client beats both fixed cuts (same requests, in lockstep).
            string trace = string.Join("\n", runs.Select(r => $"{r.Label}: {string.Join(" ", r.Results.Select(x => $"{x.TotalMs:0}({x.DeviceMs:0}/{x.EncodeMs:0}/{x.NetworkMs:0}/{x.ServerMs:0})"))}"));
            Assert.True(adaptive.MeanMs < fixedShallow.MeanMs, $"adaptive {adaptive.MeanMs:0.0} ms vs fixed shallow {fixedShallow.MeanMs:0.0} ms\n{trace}");
            Assert.True(adaptive.MeanMs < fixedDeep.MeanMs, $"adaptive {adaptive.MeanMs:0.0} ms vs fixed deep {fixedDeep.MeanMs:0.0} ms\n{trace}");
            Assert.True(adaptive.Probes > 0);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
