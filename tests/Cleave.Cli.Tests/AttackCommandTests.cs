using System.Buffers.Binary;
using System.Text.Json;
using Cleave.Codecs;
using Cleave.Codecs.Analysis;
using Cleave.Codecs.Analysis.Fuzzing;

namespace Cleave.Cli.Tests;

/// <summary>The hidden <c>attack</c> verbs, and the decoder's refusal of a claimed shape through <c>codec decode</c>.</summary>
public sealed class AttackCommandTests
{
    [Fact]
    public void AttackVerbsAreHiddenFromTheHelpButRun()
    {
        var (code, stdout, _) = CliRunner.Run("--help");
        Assert.Equal(0, code);
        Assert.DoesNotContain("attack", stdout);
        (code, stdout, _) = CliRunner.Run("attack", "fuzz-frames", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--cases", stdout);

        (code, stdout, var stderr) = CliRunner.Run("attack", "fuzz-frames", "--cases", "500", "--json");
        Assert.True(code == 0, stderr + stdout);
        using var report = JsonDocument.Parse(stdout);
        Assert.Equal(500, report.RootElement.GetProperty("cases").GetInt32());
        Assert.Equal(0, report.RootElement.GetProperty("unexpected").GetInt32());
        // "passed" also counts cases over the wall-clock limit, which a loaded machine's scheduler can cause on its own
        // (a 116 ms wall case used 9 ms of CPU at load 20): the test asserts what the decoder controls, its CPU time.
        Assert.Equal(0, report.RootElement.GetProperty("cases_over_allocation_limit").GetInt32());
        Assert.True(report.RootElement.GetProperty("max_case_cpu_ms").GetDouble() < report.RootElement.GetProperty("case_limit_ms").GetDouble(), stdout);
    }

    [Fact]
    public void FuzzProtocolNeedsSomethingToAttack()
    {
        var (code, _, stderr) = CliRunner.Run("attack", "fuzz-protocol", "--cases", "10");
        Assert.Equal(2, code);
        Assert.Contains("--lm", stderr);
    }

    [Fact]
    public void CodecDecodeRefusesAContextFrameClaimingAHugeShapeAtOnce()
    {
        // A real context-layout frame of [2 x 12 x 12] made to claim [8388609 x 7 x 1]: 58.7 M elements from 100-odd bytes.
        byte[] frame = FeatureCodecs.Create("rans-ifc:bits=3,levels=6,clip=3,ctx=2d").Encode(FrameFuzzer.SmoothPlanes(), FrameFuzzer.SmoothShape);
        Assert.Equal(RansIfcLayout.Context, (RansIfcLayout)frame[FeatureFrame.ReadHeader(frame).PayloadOffset]);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(8), 8_388_609);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(12), 7);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(16), 1);
        FrameMutator.Reseal(frame);
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("probe.clv"), frame);

        // CPU time of this thread, not wall time: the runner waits its turn behind other CLI tests, and a loaded
        // machine stretches wall time (before the fix this decode burned about 1 s of CPU).
        double cpuStart = CpuClock.ThreadSeconds();
        var (code, _, stderr) = CliRunner.Run("codec", "decode", dir.File("probe.clv"), "-o", dir.File("out.npy"));
        double cpuSeconds = CpuClock.ThreadSeconds() - cpuStart;
        Assert.Equal(1, code);
        Assert.Contains("cannot describe", stderr);
        Assert.True(cpuSeconds < 0.5, $"refusing took {cpuSeconds * 1000:F0} ms of CPU");
        Assert.False(File.Exists(dir.File("out.npy")));
    }
}
