using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using Cleave.Codecs.Entropy;

namespace Cleave.Codecs.Tests.Frames;

/// <summary>
/// Issue 13, item 8: a frame's claimed shape costs nothing until its payload could describe it, and one decode never
/// allocates more than <see cref="DecodeLimits.MaxAllocatedBytes"/>, scratch included, on the first call too.
/// </summary>
public sealed class DecodeCostLimitTests
{
    /// <summary>
    /// The probe of issue 13: 53 bytes, rans-ifc with ctx=2d, shape [8388609 x 7] (58.7 M elements, 235 MB as float32,
    /// under the 256 MiB default), the context layout and a 10-byte range-coded stream. Before the fix it cost 1.5 s of
    /// CPU and up to 368 MB (the output plus a 128 MiB pooled symbol buffer the first time); `cleave codec decode` of
    /// this frame built from main took 0.99 s of CPU and 148 MB of RSS before failing at the stream's end.
    /// </summary>
    internal static byte[] ClaimedShapeProbe()
    {
        var frame = new byte[53];
        var w = frame.AsSpan();
        "CLVF"u8.CopyTo(w);
        w[4] = FeatureFrame.Version;
        w[5] = (byte)CodecId.RansIfc;
        w[6] = (byte)TensorDataType.Float32;
        w[7] = 2;
        BinaryPrimitives.WriteUInt32LittleEndian(w[8..], 8388609);
        BinaryPrimitives.WriteUInt32LittleEndian(w[12..], 7);
        BinaryPrimitives.WriteUInt16LittleEndian(w[16..], 8);
        // bits=1, levels=2 (every decoded symbol is valid, so the old decoder ran all 58.7 M of them), ncols=auto, no clip, ctx=2d
        byte[] parameters = [1, 2, 0, 0, 0, 0, 0, 2];
        parameters.CopyTo(w[18..]);
        BinaryPrimitives.WriteUInt32LittleEndian(w[26..], 19);
        w[30] = (byte)RansIfcLayout.Context;
        BinaryPrimitives.WriteSingleLittleEndian(w[31..], 0.5f);
        BinaryPrimitives.WriteInt32LittleEndian(w[35..], 0);
        byte[] stream = [0, 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0, 0x11];
        stream.CopyTo(w[39..]);
        BinaryPrimitives.WriteUInt32LittleEndian(w[49..], Crc32C.Compute(w[..49]));
        return frame;
    }

    [Fact]
    public void TheClaimedShapeProbeIsRefusedBeforeAnyAllocationOrWork()
    {
        byte[] frame = ClaimedShapeProbe();
        var header = FeatureFrame.ReadHeader(frame); // well formed: only its payload gives it away
        Assert.Equal(58_720_263, header.Shape.ElementCount);

        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        var e = Assert.Throws<FrameFormatException>(() => FeatureFrame.Decode(frame, out _));
        watch.Stop();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        Assert.Equal(FrameError.Truncated, e.Error);
        Assert.Contains("cannot describe", e.Message);
        Assert.True(allocated < 1 << 20, $"refusing the probe allocated {allocated:N0} bytes");
        Assert.True(watch.ElapsedMilliseconds < 250, $"refusing the probe took {watch.ElapsedMilliseconds} ms (was 1.5 s)");
    }

    [Fact]
    public void TheSpanDecodeRefusesTheProbeToo()
    {
        // A caller-provided destination: the bound must stop the decoder's work, not only the allocation.
        var destination = new float[58_720_263];
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<FrameFormatException>(() => FeatureFrame.Decode(ClaimedShapeProbe(), destination));
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.Equal(FrameError.Truncated, e.Error);
        Assert.True(allocated < 1 << 20, $"refusing the probe allocated {allocated:N0} bytes");
    }

    [Fact]
    public void ScratchCountsAgainstTheAllocationLimit()
    {
        // A constant tensor is a legitimate few-byte frame of any size; its cost is the output and the symbol buffer.
        byte[] frame = FeatureCodecs.Create("rans-ifc:bits=8").Encode(new float[1_000_000], new TensorShape(1000, 1000));
        Assert.True(frame.Length < 100);
        long output = 4_000_000, scratch = 1 << 20; // 1 M byte symbols, pooled as 2^20
        var tight = new DecodeLimits { MaxAllocatedBytes = output + scratch - 1 };
        Assert.Equal(FrameError.LimitExceeded, Assert.Throws<FrameFormatException>(() => FeatureFrame.Decode(frame, out _, tight)).Error);

        var enough = new DecodeLimits { MaxAllocatedBytes = output + scratch };
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        float[] values = FeatureFrame.Decode(frame, out _, enough);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.All(values, v => Assert.Equal(0f, v));
        Assert.True(allocated <= enough.MaxAllocatedBytes + (64 << 10), $"decoding allocated {allocated:N0} bytes, the limit is {enough.MaxAllocatedBytes:N0}");

        // Into a caller's buffer only the scratch counts.
        var scratchOnly = new DecodeLimits { MaxAllocatedBytes = scratch };
        FeatureFrame.Decode(frame, new float[1_000_000], scratchOnly);
    }

    [Theory]
    [InlineData("raw", 4)]
    [InlineData("fp16", 2)]
    [InlineData("bf16", 2)]
    public void FixedWidthCodecsRefuseAShortPayloadBeforeAllocating(string spec, int bytesPerElement)
    {
        byte[] frame = FeatureCodecs.Create(spec).Encode([1f, 2f, 3f], new TensorShape(3));
        // Claim 16 M elements (64 MiB of output, within the default limits) over the same 3-element payload.
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(8), 16 << 20);
        FrameValidationTests.Reseal(frame);
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<FrameFormatException>(() => FeatureFrame.Decode(frame, out _));
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.Equal(FrameError.Truncated, e.Error);
        Assert.Contains($"{bytesPerElement * (16L << 20)}", e.Message);
        Assert.True(allocated < 1 << 20, $"refusing allocated {allocated:N0} bytes");
    }

    [Fact]
    public void AdaptiveProbabilitiesStayWithinTheBoundTheContextFloorAssumes()
    {
        // Every state reachable from the initial one, by any bit sequence: the floor's derivation needs 31..2017.
        var seen = new HashSet<AdaptiveBit> { AdaptiveBit.Initial };
        var frontier = new Queue<AdaptiveBit>(seen);
        uint low = uint.MaxValue, high = 0;
        while (frontier.TryDequeue(out var state))
        {
            low = Math.Min(low, state.Probability);
            high = Math.Max(high, state.Probability);
            for (int bit = 0; bit < 2; bit++)
            {
                var next = state;
                next.Update(bit);
                if (seen.Add(next)) frontier.Enqueue(next);
            }
        }
        Assert.True(low >= 31 && high <= 2017, $"probabilities reach {low}..{high} of 2048");
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(3, 0)]
    [InlineData(3, 5)]
    [InlineData(12, 0)]
    public void TheContextFloorHoldsForTheMostCompressibleStreams(int bits, int symbol)
    {
        // A constant plane is the cheapest thing the context coder can code: every decision at its most likely.
        const int n = 1 << 21;
        var symbols = new ushort[n];
        Array.Fill(symbols, (ushort)symbol);
        var output = new ArrayBufferWriter<byte>();
        SpatialContextCoder.Encode(symbols, new TensorShape(n / 512, 512), bits, background: 0, output);
        long floor = SpatialContextCoder.MinimumStreamBytes(n, bits);
        Assert.True(output.WrittenCount >= floor, $"{n} constant {bits}-bit symbols took {output.WrittenCount} bytes, below the floor of {floor}");
        Assert.True(output.WrittenCount < 1.1 * floor + 64, $"the floor ({floor}) should be close to the best case ({output.WrittenCount})");

        var decoded = new ushort[n];
        SpatialContextCoder.Decode(output.WrittenSpan, new TensorShape(n / 512, 512), bits, 1 << bits, 0, decoded);
        Assert.Equal(symbols, decoded);
    }

    [Fact]
    public void ContextFramesOfConstantTensorsStillDecode()
    {
        // ctx=2d only sends the context layout when it is the smallest; force it through the payload directly.
        foreach (string spec in new[] { "rans-ifc:bits=3,levels=6,clip=3,ctx=2d", "slicer:keep=1,asym=1,blocks=8,delta=0.001,ctx=2d" })
        {
            var codec = FeatureCodecs.Create(spec);
            var shape = new TensorShape(4, 64, 64);
            var values = new float[shape.ElementCount];
            byte[] frame = codec.Encode(values, shape);
            Assert.Equal(values, FeatureFrame.Decode(frame, out _));
        }
    }
}
