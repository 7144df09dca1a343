namespace Cleave.Codecs.Analysis.Fuzzing;

/// <summary>
/// The frame campaign: valid frames of every codec in <see cref="FeatureCodecs.Examples"/> (several tensor kinds each,
/// so every layout appears: sparse, dense, empty, repeated rows, smooth planes for the context layouts), mutated by
/// <see cref="FrameMutator"/> and decoded under <see cref="Limits"/>, alternately into a caller's buffer and through
/// the allocating decode. The only exception a decoder may throw is <see cref="FrameFormatException"/>.
/// </summary>
public static class FrameFuzzer
{
    /// <summary>A wall-time bound no single decode may exceed.</summary>
    public const double CaseLimitMs = 100;

    /// <summary>Room for a decoder's fixed-size tables (rANS slot tables, context probabilities: up to about 1 MiB) and error messages, beyond the proportional limit.</summary>
    public const long FixedAllocationAllowance = 1 << 20;

    /// <summary>The limits the campaign decodes under: 1 MiB of output, 2 MiB of proportional allocation.</summary>
    public static DecodeLimits Limits { get; } = new() { MaxDecodedBytes = 1 << 20, MaxAllocatedBytes = 2 << 20 };

    public static FuzzReport Run(int cases, int seed = 20261202, IProgress<int>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cases);
        var mutator = new FrameMutator(Seeds());
        WarmUp(mutator, seed);
        var random = new Random(seed);
        var tally = new FuzzTally("frames", cases, CaseLimitMs, Limits.MaxAllocatedBytes + FixedAllocationAllowance, AllocationScope.CurrentThread);
        var buffer = new float[Limits.MaxDecodedBytes / sizeof(float)];
        for (int i = 0; i < cases; i++)
        {
            byte[] frame = mutator.Next(random);
            bool allocating = (i & 1) == 1;
            tally.Run(() =>
            {
                if (allocating) FeatureFrame.Decode(frame, out _, Limits);
                else FeatureFrame.Decode(frame, buffer, Limits);
                return "decoded";
            }, e => e is FrameFormatException f ? f.Error.ToString() : null, () => Describe(frame, allocating));
            if (progress is not null && (i + 1) % 10_000 == 0) progress.Report(i + 1);
        }
        return tally.Finish();
    }

    /// <summary>Untimed cases that run before the timed ones.</summary>
    public const int WarmUpCases = 2_000;

    /// <summary>
    /// Every seed decoded, then <see cref="WarmUpCases"/> mutated frames from another seed, untimed: the first decode
    /// of each path pays for JIT compilation and static tables (a first slicer decode takes ~290 ms, the next 0.02 ms),
    /// which says nothing about what a hostile frame costs a running server.
    /// </summary>
    private static void WarmUp(FrameMutator mutator, int seed)
    {
        var random = new Random(~seed);
        var buffer = new float[Limits.MaxDecodedBytes / sizeof(float)];
        for (int i = 0; i < mutator.Seeds.Count + WarmUpCases; i++)
        {
            byte[] frame = i < mutator.Seeds.Count ? mutator.Seeds[i] : mutator.Next(random);
            try
            {
                FeatureFrame.Decode(frame, buffer, Limits);
                FeatureFrame.Decode(frame, out _, Limits);
            }
            catch (FrameFormatException)
            {
                // expected; anything else surfaces in the timed cases
            }
        }
    }

    /// <summary>The valid frames mutations start from: five tensors of different character for every example codec.</summary>
    public static List<byte[]> Seeds()
    {
        var seeds = new List<byte[]>();
        foreach (string spec in FeatureCodecs.Examples)
        {
            var codec = FeatureCodecs.Create(spec);
            seeds.Add(codec.Encode(SyntheticTensors.ReluLike(60, seed: seeds.Count), new TensorShape(3, 4, 5)));
            seeds.Add(codec.Encode(SyntheticTensors.Gaussian(7, seed: seeds.Count), new TensorShape(1, 7)));
            seeds.Add(codec.Encode([], new TensorShape(0, 2)));
            seeds.Add(codec.Encode(RepeatedRows(seed: seeds.Count), new TensorShape(12, 6)));
            seeds.Add(codec.Encode(SmoothPlanes(), SmoothShape));
            seeds.Add(codec.Encode(new float[256], new TensorShape(16, 16)));
        }
        foreach (var (spec, shape) in ShapedExamples)
        {
            var codec = FeatureCodecs.Create(spec);
            bool smooth = shape.ElementCount == SmoothShape.ElementCount;
            seeds.Add(codec.Encode(smooth ? SmoothPlanes() : SyntheticTensors.ReluLike(shape.ElementCount, seed: seeds.Count), shape));
        }
        return seeds;
    }

    /// <summary>
    /// Specs that fit only tensors with their channel count (rans-ifc per-channel gains, channels at axis rank − 3), so
    /// they are seeded on the shapes they fit instead of joining <see cref="FeatureCodecs.Examples"/>.
    /// </summary>
    public static readonly IReadOnlyList<(string Spec, TensorShape Shape)> ShapedExamples =
    [
        ("rans-ifc:bits=3,levels=6,clip=3,ctx=2d,rdo=0.15,gains=7094", new TensorShape(2, 12, 12)), // SmoothShape, which is initialized later
        ("rans-ifc:bits=4,gains=80a060", new TensorShape(3, 4, 5)),
    ];

    public static readonly TensorShape SmoothShape = new(2, 12, 12);

    /// <summary>Two smooth 12x12 planes, so <c>ctx=2d</c> frames carry the spatial-context layout.</summary>
    public static float[] SmoothPlanes()
    {
        var values = new float[SmoothShape.ElementCount];
        for (int c = 0; c < 2; c++)
            for (int y = 0; y < 12; y++)
                for (int x = 0; x < 12; x++)
                    values[(c * 12 + y) * 12 + x] = MathF.Max(0, MathF.Sin(0.4f * x + c) + MathF.Cos(0.3f * y));
        return values;
    }

    /// <summary>12 rows of 6 drawn from 3 patterns with small noise, so <c>rows=ref</c> frames carry row references.</summary>
    public static float[] RepeatedRows(int seed)
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

    private static string Describe(byte[] frame, bool allocating) =>
        $"{(allocating ? "allocating" : "span")} decode of {frame.Length} bytes {Convert.ToHexString(frame.AsSpan(0, Math.Min(frame.Length, 512)))}{(frame.Length > 512 ? "..." : "")}";
}
