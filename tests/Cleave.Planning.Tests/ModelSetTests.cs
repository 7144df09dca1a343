using Cleave.Planning.Planner;
using Cleave.Planning.Profiles;

namespace Cleave.Planning.Tests;

public sealed class ModelSetTests
{
    [Fact]
    public void AnEmptyListIsRefused()
    {
        var e = Assert.Throws<ModelSetException>(() => ModelSet.Create([]));
        Assert.Equal(ModelSetError.Empty, e.Error);
        Assert.Contains("empty", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSameModelTwiceIsRefusedByNameAndByContent()
    {
        var byName = Assert.Throws<ModelSetException>(() => ModelSet.Create([Entry("mnv2", ModelProfiles.Mnv2()), Entry("mnv2", ModelProfiles.Mnv1Quarter())]));
        Assert.Equal(ModelSetError.Duplicate, byName.Error);
        Assert.Contains("'mnv2' is listed twice", byName.Message, StringComparison.Ordinal);

        var byContent = Assert.Throws<ModelSetException>(() => ModelSet.Create([Entry("a", ModelProfiles.Mnv2()), Entry("b", ModelProfiles.Mnv2())]));
        Assert.Equal(ModelSetError.Duplicate, byContent.Error);
        Assert.Contains("'b' and 'a' are the same model", byContent.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingOrOldProfileIsRefusedNamingTheModel()
    {
        var missing = Assert.Throws<ModelSetException>(() => ModelSet.Create([Entry("mnv2", ModelProfiles.Mnv2()), new ModelEntry("small", "small.onnx", null)]));
        Assert.Equal(ModelSetError.MissingProfile, missing.Error);
        Assert.Contains("'small' has no profile", missing.Message, StringComparison.Ordinal);

        // A profile collected before the comparability fields existed: it cannot show it used the same images.
        var old = ModelProfiles.Mnv1Quarter() with { CalibrationSha256 = null, Classes = 0, InputShape = [] };
        var e = Assert.Throws<ModelSetException>(() => ModelSet.Create([Entry("mnv2", ModelProfiles.Mnv2()), Entry("small", old)]));
        Assert.Equal(ModelSetError.MissingProfile, e.Error);
        Assert.Contains("--recollect", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelsWithAnotherLabelSetInputKindOrCalibrationAreRefused()
    {
        var mnv2 = Entry("mnv2", ModelProfiles.Mnv2());
        // The iNaturalist-birds MobileNetV2 in the shared assets has 965 classes: another question altogether.
        var birds = Assert.Throws<ModelSetException>(() => ModelSet.Create([mnv2, Entry("birds", ModelProfiles.Mnv1Quarter() with { Classes = 965 })]));
        Assert.Equal(ModelSetError.Inconsistent, birds.Error);
        Assert.Contains("965 classes", birds.Message, StringComparison.Ordinal);

        var grey = Assert.Throws<ModelSetException>(() => ModelSet.Create([mnv2, Entry("grey", ModelProfiles.Mnv1Quarter() with { InputShape = [1, 1, 128, 128] })]));
        Assert.Equal(ModelSetError.Inconsistent, grey.Error);
        Assert.Contains("same kind of input", grey.Message, StringComparison.Ordinal);

        var otherImages = Assert.Throws<ModelSetException>(() => ModelSet.Create([mnv2, Entry("small", ModelProfiles.Mnv1Quarter() with { CalibrationSha256 = "ff" })]));
        Assert.Equal(ModelSetError.Inconsistent, otherImages.Error);
        Assert.Contains("other images", otherImages.Message, StringComparison.Ordinal);

        var fewer = Assert.Throws<ModelSetException>(() => ModelSet.Create([mnv2, Entry("small", ModelProfiles.Mnv1Quarter() with { Images = 32 })]));
        Assert.Contains("32 vs 64 images", fewer.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelsOfOtherInputSizesAndLayoutsPlanTogetherWithDropsFromTheBestModel()
    {
        // 224x224 NCHW and 128x128 NHWC: each crops the same photo to its own input.
        var set = ModelSet.Create([Entry("small", ModelProfiles.Mnv1Quarter() with { InputShape = [1, 128, 128, 3] }), Entry("mnv2", ModelProfiles.Mnv2())]);
        Assert.Equal("mnv2", set.BestModel);
        var all = set.Configurations(new Hardware(0.02));
        var smallLocal = all.Single(c => c.Id == "small/local");
        Assert.Equal("small", smallLocal.Model);
        Assert.Equal(100 * (0.859 - 0.422), smallLocal.DropPoints, 9);
        Assert.Equal(0, all.Single(c => c.Id == "mnv2/local").DropPoints, 9);
        Assert.Equal("local", ModelSet.LocalId(smallLocal));
        Assert.Equal(ModelProfiles.Mnv1Quarter().Splits.Sum(s => s.Codecs.Count) + 2 + ModelProfiles.Mnv2().Splits.Sum(s => s.Codecs.Count) + 2, all.Count);
        Assert.Equal(100 * 0.859 - 80, set.DropBudgetFor(80), 9);
        Assert.Equal(0, set.DropBudgetFor(95));
        Assert.Throws<ArgumentException>(() => set.Configurations(new Hardware(DeviceProfile: ModelProfiles.Mnv2())));
    }

    private static ModelEntry Entry(string name, PlanningProfile profile) => new(name, name + ".onnx", profile);
}
