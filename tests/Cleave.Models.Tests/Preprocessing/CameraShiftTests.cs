using Cleave.Models.Preprocessing;

namespace Cleave.Models.Tests.Preprocessing;

public sealed class CameraShiftTests
{
    private static RgbImage Gradient(int w = 40, int h = 30)
    {
        var pixels = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++) pixels[(y * w + x) * 3 + c] = (byte)((x * 6 + y * 2 + c * 40) % 256);
        return new RgbImage(w, h, pixels);
    }

    [Fact]
    public void The_same_image_name_and_seed_give_the_same_shift_and_other_names_other_noise()
    {
        var shift = CameraShift.Parse("blur=1.5,noise=8,gain=0.4,seed=7");
        var image = Gradient();
        Assert.Equal(shift.Apply(image, "a.jpg").Pixels, shift.Apply(image, "a.jpg").Pixels);
        Assert.NotEqual(shift.Apply(image, "a.jpg").Pixels, shift.Apply(image, "b.jpg").Pixels);
        Assert.NotEqual(shift.Apply(image, "a.jpg").Pixels, (shift with { Seed = 8 }).Apply(image, "a.jpg").Pixels);
    }

    [Fact]
    public void Gain_darkens_blur_smooths_and_no_shift_changes_nothing()
    {
        var image = Gradient();
        Assert.Equal(image.Pixels, CameraShift.Parse("").Apply(image, "x").Pixels);
        var dark = CameraShift.Parse("gain=0.5").Apply(image, "x");
        Assert.All(Enumerable.Range(0, image.Pixels.Length), i => Assert.Equal(Math.Round(image.Pixels[i] * 0.5, MidpointRounding.ToEven), dark.Pixels[i], 0.5));
        var blurred = CameraShift.Parse("blur=2").Apply(image, "x");
        Assert.True(Roughness(blurred) < Roughness(image) * 0.8, $"{Roughness(blurred)} vs {Roughness(image)}");
    }

    [Theory]
    [InlineData("blur=-1")]
    [InlineData("noise=300")]
    [InlineData("gain=0")]
    [InlineData("gain=abc")]
    [InlineData("warp=1")]
    [InlineData("blur")]
    [InlineData("seed=1.5")]
    public void Bad_specs_are_refused(string spec) => Assert.Throws<FormatException>(() => CameraShift.Parse(spec));

    /// <summary>Sum of absolute differences between horizontal neighbours.</summary>
    private static double Roughness(RgbImage image)
    {
        double total = 0;
        for (int i = 3; i < image.Pixels.Length; i++) total += Math.Abs(image.Pixels[i] - image.Pixels[i - 3]);
        return total;
    }
}
