using Cleave.Evaluation.Datasets;
using Cleave.Models.Preprocessing;

namespace Cleave.Evaluation.Tests;

public sealed class PreprocessingOverrideTests
{
    [Fact]
    public void Keys_override_the_recorded_spec_and_the_rest_is_kept()
    {
        var recorded = PreprocessingSpec.MinusOneToOne(224, 224, 0.875, "images");
        var spec = PreprocessingOverride.Parse("size=160,crop=1,layout=nhwc", recorded);
        Assert.Equal((160, 160, 1.0, "NHWC", "images"), (spec.Width, spec.Height, spec.CropFraction, spec.Layout, spec.InputName));
        Assert.Equal(recorded.Mean, spec.Mean);
    }

    [Fact]
    public void Without_a_recorded_spec_a_size_is_required_and_one_mean_applies_to_all_channels()
    {
        Assert.Throws<FormatException>(() => PreprocessingOverride.Parse("crop=0.9", null));
        var spec = PreprocessingOverride.Parse("width=128,height=96,mean=0.5/0.4/0.3,scale=2", null);
        Assert.Equal((128, 96), (spec.Width, spec.Height));
        Assert.Equal([0.5f, 0.4f, 0.3f], spec.Mean);
        Assert.Equal([2f, 2f, 2f], spec.Scale);
    }

    [Theory]
    [InlineData("size=0")]
    [InlineData("crop=1.5,size=4")]
    [InlineData("colour=RGB,size=4")]
    [InlineData("size=4,layout=CHW")]
    [InlineData("size=4,mean=1/2")]
    [InlineData("size")]
    public void Bad_options_are_rejected(string text) =>
        Assert.Throws<FormatException>(() => PreprocessingOverride.Parse(text, null));
}
