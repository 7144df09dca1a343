using System.Security.Cryptography;

namespace Cleave.Codecs.Tests.Slicer;

/// <summary>
/// Pins the encoded bytes of a few slicer frames (SHA-256 prefixes recorded with the scalar encoder before its guard,
/// top-K and histogram passes were vectorized), so speed work cannot change the bitstream unnoticed; the same hashes
/// must come out with and without hardware intrinsics (DOTNET_EnableHWIntrinsic=0).
/// </summary>
public sealed class SlicerBitstreamPinTests
{
    private static readonly TensorShape Shape = new(1, 64, 56, 56);

    public static TheoryData<string, string, string> Frames => new()
    {
        { "slicer:keep=1,asym=1,blocks=8,delta=0.001", "relu", "01E24F4ED186D774" },
        { "slicer:keep=1,asym=1,blocks=8,delta=0.001", "special", "50484F26796D33A8" },
        { "slicer:keep=0.25,asym=0.5,blocks=4,delta=0.01", "relu", "2BEDAE4074C56F4D" },
        { "slicer:keep=0.25,asym=0.5,blocks=4,delta=0.01", "special", "14A342780268E5EA" },
        { "slicer:keep=0.1,asym=1,blocks=1,delta=0", "relu", "B5CAAA1B76597586" },
        { "slicer:keep=0.1,asym=1,blocks=1,delta=0", "special", "4B378302D8306967" },
        { "slicer:keep=0.5,asym=0.3,blocks=8,delta=0.0001", "relu", "5BF564FCCFB4120C" },
        { "slicer:keep=0.5,asym=0.3,blocks=8,delta=0.0001", "special", "80266D8CD444A473" },
        { "slicer:keep=1,asym=1,blocks=2,delta=0.05", "relu", "3E138D22FA696B72" },
        { "slicer:keep=1,asym=1,blocks=2,delta=0.05", "special", "4CC94CF043F17073" },
    };

    [Theory]
    [MemberData(nameof(Frames))]
    public void EncodedFrameIsUnchanged(string spec, string input, string sha256Prefix)
    {
        var values = SyntheticTensors.ReluLike(Shape.ElementCount, input == "relu" ? 7 : 8);
        if (input == "special")
        {
            // NaN, +Inf and -0 every 997 elements and one -Inf: the sanitizing paths.
            for (int i = 0; i < values.Length; i += 997) values[i] = (i % 3) switch { 0 => float.NaN, 1 => float.PositiveInfinity, _ => -0f };
            values[5] = float.NegativeInfinity;
        }
        byte[] frame = FeatureCodecs.Create(spec).Encode(values, Shape);
        Assert.Equal(sha256Prefix, Convert.ToHexString(SHA256.HashData(frame))[..16]);
    }
}
