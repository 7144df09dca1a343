using Cleave.Planning.Planner;
using Cleave.Planning.Profiles;
using Cleave.Runtime.Links;

namespace Cleave.Planning.Tests;

public sealed class PlanDocumentTests
{
    private static PlanningProfile Profile() => new()
    {
        Model = "m.onnx", ModelSha256 = "abc", Images = 10, FullTop1 = 0.8, FullMs = 20, PreprocessMs = 2,
        Splits =
        [
            new SplitProfile
            {
                Tensor = "cut", Shape = [1, 8, 4, 4], HeadMs = 5, TailMs = 15, Fp32Bytes = 512,
                Codecs = [new CodecPoint("raw", 0.8, 1, 546, 546, 0.1, 0.1), new CodecPoint("fp16", 0.7, 0.9, 120, 130, 0.2, 0.1)],
            },
        ],
        Offload = [new OffloadPoint(75, 0.75, 0.9, 9000, 12000, 1, 2)],
    };

    [Fact]
    public void BuilderScalesTimesAndComputesDrops()
    {
        var list = ConfigurationBuilder.Build(Profile(), new Hardware(DeviceSpeed: 0.5, ServerSpeed: 4));
        Assert.Equal(1 + 1 + 2, list.Count);
        var local = list.Single(c => c.Kind == ConfigurationKind.Local);
        Assert.Equal((2 + 20) / 0.5, local.DeviceMs);
        var lossy = list.Single(c => c.Id == "split:cut|fp16");
        Assert.Equal((2 + 5) / 0.5, lossy.DeviceMs, 9);
        Assert.Equal(15 / 4.0, lossy.ServerMs, 9);
        Assert.Equal(10, lossy.DropPoints, 9);
        var offload = list.Single(c => c.Kind == ConfigurationKind.Offload);
        Assert.Equal(20 / 4.0, offload.ServerMs, 9);
        Assert.Equal(5, offload.DropPoints, 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => ConfigurationBuilder.Build(Profile(), new Hardware(0)));
    }

    [Fact]
    public void DeviceProfileReplacesScaledDeviceTimes()
    {
        var onDevice = Profile() with
        {
            PreprocessMs = 7, FullMs = 300,
            Splits = [Profile().Splits[0] with { HeadMs = 90 }],
        };
        var list = ConfigurationBuilder.Build(Profile(), new Hardware(DeviceSpeed: 100, DeviceProfile: onDevice));
        Assert.Equal(307, list.Single(c => c.Kind == ConfigurationKind.Local).DeviceMs);
        Assert.Equal(97, list.Single(c => c.Id == "split:cut|raw").DeviceMs);
    }

    [Fact]
    public void PlanAndProfileSurviveAJsonRoundTrip()
    {
        var profile = Profile();
        string profilePath = Path.GetTempFileName();
        string planPath = Path.GetTempFileName();
        try
        {
            profile.Save(profilePath);
            var reread = PlanningProfile.Load(profilePath);
            Assert.Equal(profile.Splits[0].Codecs, reread.Splits[0].Codecs);
            Assert.Equal(profile.Offload, reread.Offload);

            var hardware = new Hardware();
            var configurations = ConfigurationBuilder.Build(reread, hardware);
            var decision = SplitPlanner.Decide(configurations, new PlanRequest(LinkProfile.Preset("lte"), 1, 500));
            var plan = PlanDocument.From(decision, SplitPlanner.AdaptiveSet(configurations, decision), reread, hardware);
            plan.Save(planPath);
            var loaded = PlanDocument.Load(planPath);
            Assert.Equal(plan.Chosen, loaded.Chosen);
            Assert.Equal(plan.ChosenConfiguration, loaded.ChosenConfiguration);
            Assert.Equal(plan.Adaptive, loaded.Adaptive);
            Assert.Equal(500, loaded.SloMs);
            Assert.Equal("lte", loaded.Link.ToProfile().Name);
            Assert.Contains("\"kind\": \"local\"", File.ReadAllText(planPath)); // enums as readable strings
        }
        finally
        {
            File.Delete(profilePath);
            File.Delete(planPath);
        }
    }

    [Fact]
    public void MalformedFilesAreRejectedWithTheReason()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "{\"version\": 99}");
            Assert.Contains("version 99", Assert.Throws<InvalidDataException>(() => PlanningProfile.Load(path)).Message);
            File.WriteAllText(path, "not json");
            Assert.Throws<InvalidDataException>(() => PlanDocument.Load(path));
            File.WriteAllText(path, "{\"version\": 1, \"chosen\": \"nowhere\"}");
            Assert.Contains("nowhere", Assert.Throws<InvalidDataException>(() => PlanDocument.Load(path)).Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void CacheMismatchNamesWhatDiffers()
    {
        var p = Profile();
        var options = new ProfileOptions { Codecs = ["raw", "fp16"], JpegQualities = [75] };
        Assert.Null(ProfileCache.Mismatch(p, "abc", 10, options));
        Assert.Contains("another model", ProfileCache.Mismatch(p, "def", 10, options));
        Assert.Contains("images", ProfileCache.Mismatch(p, "abc", 11, options));
        Assert.Contains("codec", ProfileCache.Mismatch(p, "abc", 10, options with { Codecs = ["raw"] }));
        Assert.Contains("cuts", ProfileCache.Mismatch(p, "abc", 10, options with { Splits = ["other"] }));
    }
}
