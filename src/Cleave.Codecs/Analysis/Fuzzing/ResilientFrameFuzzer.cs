using System.Buffers.Binary;

namespace Cleave.Codecs.Analysis.Fuzzing;

/// <summary>
/// The resilient-frame campaign: valid resilient frames (several inner codecs and group grids) damaged as a bit-error
/// channel damages them (1-16 independent flips, or a burst of flips), edited like any hostile message
/// (<see cref="FrameMutator.Mutate"/>: truncation, insertion, splices, boundary values), or edited inside one group or
/// the first header copy with that part's check recomputed, so the damage reaches the inner codec's parser or the header
/// parser instead of stopping at a check. Each is decoded (alternately into a buffer and allocating) under
/// <see cref="FrameFuzzer.Limits"/>: the decode conceals, or fails with <see cref="FrameFormatException"/>, never anything else.
/// </summary>
public static class ResilientFrameFuzzer
{
    public static readonly string[] Specs =
    [
        "resilient:planes=2,rows=3/raw",
        "resilient:planes=4,rows=7/rans-ifc:bits=3,levels=6,clip=3,ctx=2d",
        "resilient:planes=1,rows=4,conceal=mean/quant:bits=4,entropy=rans",
        "resilient:planes=3,rows=2,conceal=zero/slicer:keep=0.25,asym=0.5,blocks=4,delta=0.01",
        "resilient:planes=2,rows=6/rans-ifc:bits=4,ncols=4",
        "resilient:planes=1,rows=12/quant:bits=8,entropy=zstd",
        "resilient:planes=1,rows=7,layout=2/rans-ifc:bits=3,levels=6,clip=3,ctx=2d",
        "resilient:planes=3,rows=4,conceal=mean,layout=2/rans-ifc:bits=5,ctx=2d",
        "resilient:planes=2,rows=12,layout=2,prior=none/rans-ifc:bits=2,range=1.5,ctx=2d",
    ];

    public static List<byte[]> Seeds()
    {
        var seeds = new List<byte[]>();
        foreach (string spec in Specs)
        {
            var codec = FeatureCodecs.Create(spec);
            seeds.Add(codec.Encode(FrameFuzzer.SmoothPlanes(), FrameFuzzer.SmoothShape));
            seeds.Add(codec.Encode(SyntheticTensors.ReluLike(4 * 12 * 10, seed: seeds.Count), new TensorShape(1, 4, 12, 10)));
            seeds.Add(codec.Encode(FrameFuzzer.RepeatedRows(seed: seeds.Count), new TensorShape(12, 6)));
            seeds.Add(codec.Encode(SyntheticTensors.Gaussian(7, seed: seeds.Count), new TensorShape(7)));
            seeds.Add(codec.Encode([], new TensorShape(0, 2)));
        }
        return seeds;
    }

    public static FuzzReport Run(int cases, int seed = 20261202, IProgress<int>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cases);
        var seeds = Seeds();
        var limits = FrameFuzzer.Limits;
        var buffer = new float[limits.MaxDecodedBytes / sizeof(float)];
        var warm = new Random(~seed);
        for (int i = 0; i < seeds.Count + FrameFuzzer.WarmUpCases; i++)
        {
            byte[] frame = i < seeds.Count ? seeds[i] : Damage(seeds[warm.Next(seeds.Count)], warm);
            try { FeatureFrame.Decode(frame, buffer, limits); FeatureFrame.Decode(frame, out _, limits); }
            catch (FrameFormatException) { }
        }
        var random = new Random(seed);
        var tally = new FuzzTally("resilient frames", cases, FrameFuzzer.CaseLimitMs, limits.MaxAllocatedBytes + FrameFuzzer.FixedAllocationAllowance, AllocationScope.CurrentThread);
        for (int i = 0; i < cases; i++)
        {
            byte[] frame = Damage(seeds[random.Next(seeds.Count)], random);
            bool allocating = (i & 1) == 1;
            tally.Run(() =>
            {
                var result = allocating ? Decode(frame, limits) : ResilientFrame.Decode(frame, buffer, limits);
                return result.IsIntact ? "intact" : "concealed";
            }, e => e is FrameFormatException f ? f.Error.ToString() : null,
            () => $"{(allocating ? "allocating" : "span")} decode of {frame.Length} bytes {Convert.ToHexString(frame.AsSpan(0, Math.Min(frame.Length, 512)))}");
            if (progress is not null && (i + 1) % 10_000 == 0) progress.Report(i + 1);
        }
        return tally.Finish();
    }

    private static ResilientDecodeResult Decode(byte[] frame, DecodeLimits limits)
    {
        ResilientFrame.Decode(frame, out var result, limits);
        return result;
    }

    /// <summary>One damaged copy of <paramref name="seed"/> (never changed).</summary>
    public static byte[] Damage(byte[] seed, Random random)
    {
        byte[] frame = (byte[])seed.Clone();
        switch (random.Next(5))
        {
            case 0: // independent flips
                for (int k = 1 + random.Next(16); k > 0; k--) FlipBit(frame, random.Next(8 * frame.Length));
                return frame;
            case 1: // a burst: a run of bits, each flipped with probability 1/2
                int start = random.Next(8 * frame.Length), length = 1 + random.Next(256);
                for (int b = start; b < Math.Min(8 * frame.Length, start + length); b++)
                    if (random.Next(2) == 0) FlipBit(frame, b);
                return frame;
            case 2:
                return FrameMutator.Mutate(seed, random);
            case 3: // hostile bytes inside one group, its check recomputed
                var header = ResilientHeader.TryRead(frame, DecodeLimits.Default);
                if (header is null || header.GroupCount == 0) return frame;
                int group = random.Next(header.GroupCount), at = 2 * header.Length;
                for (int g = 0; g < group; g++) at += header.GroupLengths[g] + header.GroupCheckSize;
                int size = header.GroupLengths[group];
                if (size == 0) return frame;
                for (int k = 1 + random.Next(3); k > 0; k--)
                    frame[at + random.Next(size)] = random.Next(3) switch { 0 => 0, 1 => 0xFF, _ => (byte)random.Next(256) };
                if (header.GroupCheckSize == 4) BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(at + size), ResilientFrame.GroupCheck(frame.AsSpan(at, size)));
                else BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(at + size), Crc16.Compute(frame.AsSpan(at, size)));
                return frame;
            default: // hostile fields in the first header copy, its checksum recomputed
                int copy = BinaryPrimitives.ReadUInt16LittleEndian(frame.AsSpan(5));
                if (copy < ResilientHeader.MinLength || copy > frame.Length) return frame;
                for (int k = 1 + random.Next(2); k > 0; k--)
                    frame[7 + random.Next(copy - 11)] = random.Next(3) switch { 0 => 0, 1 => 0xFF, _ => (byte)random.Next(256) };
                BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(copy - 4), Crc32C.Compute(frame.AsSpan(0, copy - 4)));
                return frame;
        }
    }

    private static void FlipBit(byte[] frame, int bit) => frame[bit >> 3] ^= (byte)(1 << (bit & 7));
}
