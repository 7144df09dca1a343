using Cleave.Codecs.Analysis.Fuzzing;
using Xunit.Abstractions;

namespace Cleave.Codecs.Tests.Frames;

/// <summary>
/// The short run of the frame campaign (<see cref="FrameFuzzer"/>; the 1,000,000-case run is
/// <c>cleave attack fuzz-frames</c>, docs/security.md): mutated frames of every codec fail only with
/// <see cref="FrameFormatException"/>, and no case allocates beyond the limits. CI runs 20,000 cases; set
/// CLEAVE_FUZZ_CASES for more.
/// </summary>
public sealed class FrameFuzzTests(ITestOutputHelper output)
{
    private static int Cases => int.TryParse(Environment.GetEnvironmentVariable("CLEAVE_FUZZ_CASES"), out int n) && n > 0 ? n : 20_000;

    [Fact]
    public void TheSeedsCarryTheContextLayouts()
    {
        // The smooth seeds of the ctx=2d examples carry the context layouts, so their streams are what gets mutated.
        byte[] contextSeed = FeatureCodecs.Create("rans-ifc:bits=3,levels=6,clip=3,ctx=2d").Encode(FrameFuzzer.SmoothPlanes(), FrameFuzzer.SmoothShape);
        Assert.Equal(RansIfcLayout.Context, (RansIfcLayout)contextSeed[FeatureFrame.ReadHeader(contextSeed).PayloadOffset]);
        byte[] slicerSeed = FeatureCodecs.Create("slicer:keep=1,asym=1,blocks=8,delta=0.001,ctx=2d").Encode(FrameFuzzer.SmoothPlanes(), FrameFuzzer.SmoothShape);
        Assert.Equal(4, slicerSeed[FeatureFrame.ReadHeader(slicerSeed).PayloadOffset]); // PositionLayout.AllContext
        Assert.Contains(FrameFuzzer.Seeds(), s => s.AsSpan().SequenceEqual(contextSeed));
    }

    [Fact]
    public void TheSeedsCarryGainsAndRdoFrames()
    {
        // The per-channel gains and rdo parameters reach the mutator, on a frame whose payload is context-coded.
        var (spec, shape) = FrameFuzzer.ShapedExamples[0];
        byte[] seed = FeatureCodecs.Create(spec).Encode(FrameFuzzer.SmoothPlanes(), shape);
        var header = FeatureFrame.ReadHeader(seed);
        Assert.Equal(spec, FeatureFrame.ReadCodec(seed, header).Spec);
        Assert.Equal(RansIfcLayout.Context, (RansIfcLayout)seed[header.PayloadOffset]);
        Assert.Contains(FrameFuzzer.Seeds(), s => s.AsSpan().SequenceEqual(seed));
    }

    [Fact]
    public void MutatedFramesFailOnlyWithFrameFormatExceptionAndWithinTheLimits()
    {
        var report = FrameFuzzer.Run(Cases);

        foreach (var (outcome, count) in report.Outcomes) output.WriteLine($"{outcome,-22} {count,8}");
        output.WriteLine($"max {report.MaxCaseMs:0.###} ms, p99.9 {report.P999CaseMs:0.###} ms, max allocation {report.MaxAllocatedBytes:N0} B ({report.HungriestCase})");
        Assert.True(report.UnexpectedCount == 0, string.Join("\n", report.UnexpectedSamples));
        Assert.True(report.CasesOverAllocationLimit == 0, $"{report.CasesOverAllocationLimit} cases allocated over {report.AllocationLimitBytes:N0} B; worst {report.MaxAllocatedBytes:N0}: {report.HungriestCase}");
        // 100 ms is the campaign's bar (met in the documented run); a loaded CI machine gets ten times that.
        Assert.True(report.MaxCaseMs < 10 * FrameFuzzer.CaseLimitMs, $"slowest case {report.MaxCaseMs:0.#} ms: {report.SlowestCase}");
        Assert.True(report.Outcomes.Count >= 6, "the mutations should reach several different checks");
        Assert.True(report.Outcomes.GetValueOrDefault(nameof(FrameError.LimitExceeded)) > 0, "huge claimed shapes should reach the limits");
    }
}
