using Xunit.Abstractions;

namespace Cleave.Codecs.Tests.Frames;

/// <summary>
/// Mutates and truncates valid frames of every codec and decodes them: the only exception allowed out of the decoder
/// is <see cref="FrameFormatException"/>. Half of the cases get a fresh checksum so that the mutation reaches the
/// codec's own parsing instead of stopping at the CRC. CI runs 100,000 cases; set CLEAVE_FUZZ_CASES for more.
/// </summary>
public sealed class FrameFuzzTests(ITestOutputHelper output)
{
    private static int Cases => int.TryParse(Environment.GetEnvironmentVariable("CLEAVE_FUZZ_CASES"), out int n) && n > 0 ? n : 100_000;

    [Fact]
    public void MutatedFramesFailOnlyWithFrameFormatException()
    {
        var random = new Random(20261126);
        var seeds = new List<byte[]>();
        foreach (string spec in FeatureCodecs.Examples)
        {
            var codec = FeatureCodecs.Create(spec);
            seeds.Add(codec.Encode(SyntheticTensors.ReluLike(60, seed: seeds.Count), new TensorShape(3, 4, 5)));
            seeds.Add(codec.Encode(SyntheticTensors.Gaussian(7, seed: seeds.Count), new TensorShape(1, 7)));
            seeds.Add(codec.Encode([], new TensorShape(0, 2)));
            seeds.Add(codec.Encode(RepeatedRows(seed: seeds.Count), new TensorShape(12, 6)));
            seeds.Add(codec.Encode(SmoothPlanes(), SmoothShape));
        }
        // The smooth seed of the ctx=2d example carries the context layout, so its stream is what gets mutated.
        byte[] contextSeed = FeatureCodecs.Create("rans-ifc:bits=3,levels=6,clip=3,ctx=2d").Encode(SmoothPlanes(), SmoothShape);
        Assert.Equal(RansIfcLayout.Context, (RansIfcLayout)contextSeed[FeatureFrame.ReadHeader(contextSeed).PayloadOffset]);
        byte[] slicerSeed = FeatureCodecs.Create("slicer:keep=1,asym=1,blocks=8,delta=0.001,ctx=2d").Encode(SmoothPlanes(), SmoothShape);
        Assert.Equal(4, slicerSeed[FeatureFrame.ReadHeader(slicerSeed).PayloadOffset]); // PositionLayout.AllContext

        var limits = new DecodeLimits { MaxDecodedBytes = 1 << 20 };
        var outcomes = new Dictionary<string, int>();
        var unexpected = new List<string>();
        var buffer = new float[1 << 18];
        for (int i = 0; i < Cases; i++)
        {
            byte[] frame = Mutate(seeds[random.Next(seeds.Count)], random);
            if (frame.Length >= 4 && random.Next(2) == 0) FrameValidationTests.Reseal(frame);
            string outcome;
            try
            {
                FeatureFrame.Decode(frame, buffer, limits);
                outcome = "decoded";
            }
            catch (FrameFormatException e)
            {
                outcome = e.Error.ToString();
            }
            catch (Exception e)
            {
                outcome = "UNEXPECTED " + e.GetType().Name;
                if (unexpected.Count < 10) unexpected.Add($"{e.GetType().Name}: {e.Message} for frame {Convert.ToHexString(frame)}");
            }
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        foreach (var (outcome, count) in outcomes.OrderByDescending(o => o.Value)) output.WriteLine($"{outcome,-22} {count,8}");
        Assert.True(unexpected.Count == 0, string.Join("\n", unexpected));
        Assert.True(outcomes.Count >= 6, "the mutations should reach several different checks");
    }

    private static readonly TensorShape SmoothShape = new(2, 12, 12);

    /// <summary>Two smooth 12x12 planes, so <c>ctx=2d</c> frames carry the spatial-context layout.</summary>
    private static float[] SmoothPlanes()
    {
        var values = new float[SmoothShape.ElementCount];
        for (int c = 0; c < 2; c++)
            for (int y = 0; y < 12; y++)
                for (int x = 0; x < 12; x++)
                    values[(c * 12 + y) * 12 + x] = MathF.Max(0, MathF.Sin(0.4f * x + c) + MathF.Cos(0.3f * y));
        return values;
    }

    /// <summary>12 rows of 6 drawn from 3 patterns with small noise, so <c>rows=ref</c> frames carry row references.</summary>
    private static float[] RepeatedRows(int seed)
    {
        var patterns = SyntheticTensors.Gaussian(18, seed);
        var random = new Random(seed);
        var values = new float[72];
        for (int row = 0; row < 12; row++)
        {
            int pattern = random.Next(3);
            for (int c = 0; c < 6; c++) values[row * 6 + c] = patterns[pattern * 6 + c] + (random.Next(8) == 0 ? 0.01f : 0);
        }
        return values;
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        int edits = 1 + random.Next(3);
        for (int e = 0; e < edits; e++)
        {
            switch (random.Next(6))
            {
                case 0 when bytes.Count > 0: // flip one bit
                    int at = random.Next(bytes.Count);
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when bytes.Count > 0: // overwrite a byte, often with an extreme value
                    bytes[random.Next(bytes.Count)] = random.Next(3) switch { 0 => 0, 1 => 0xFF, _ => (byte)random.Next(256) };
                    break;
                case 2 when bytes.Count > 0: // truncate
                    int keep = random.Next(bytes.Count);
                    bytes.RemoveRange(keep, bytes.Count - keep);
                    break;
                case 3: // insert a byte
                    bytes.Insert(random.Next(bytes.Count + 1), (byte)random.Next(256));
                    break;
                case 4: // append garbage
                    for (int k = random.Next(1, 8); k > 0; k--) bytes.Add((byte)random.Next(256));
                    break;
                default: // overwrite a 32-bit little-endian field with a boundary value
                    if (bytes.Count < 4) break;
                    int field = random.Next(bytes.Count - 3);
                    uint value = random.Next(4) switch { 0 => 0, 1 => uint.MaxValue, 2 => 0x80000000, _ => (uint)random.Next() };
                    for (int k = 0; k < 4; k++) bytes[field + k] = (byte)(value >> (8 * k));
                    break;
            }
        }
        return bytes.ToArray();
    }
}
