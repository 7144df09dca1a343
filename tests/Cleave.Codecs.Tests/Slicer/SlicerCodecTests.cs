using Cleave.Codecs.Tests.Codecs;

namespace Cleave.Codecs.Tests.Slicer;

/// <summary>
/// The shared codec tests for slicer specs with delta = 0 (every block at 256 levels unless it is exact), where an
/// honest per-element bound exists: a kept value is off by at most half its block's step, at most max|x| / 510
/// (plus float rounding); a dropped value (error |x|) is never larger in magnitude than the K-th largest one.
/// </summary>
public abstract class SlicerCodecTestBase : CodecTestBase
{
    protected abstract float Keep { get; }

    protected override Func<float, double> ToleranceFor(float[] all)
    {
        double maxAbs = all.Where(float.IsFinite).Select(v => Math.Abs((double)v)).DefaultIfEmpty(0).Max();
        double quantization = maxAbs / 510 * (1 + 1e-5) + maxAbs * 1e-6;
        int k = (int)Math.Clamp(Math.Round(Keep * (double)all.Length, MidpointRounding.AwayFromZero), 1, Math.Max(1, all.Length));
        double threshold = all.Select(v => Math.Abs((double)v)).OrderByDescending(v => v).ElementAtOrDefault(k - 1);
        return x => Math.Abs(x) <= threshold ? Math.Max(Math.Abs(x), quantization) : quantization;
    }
}

public sealed class SlicerKeepAllCodecTests : SlicerCodecTestBase
{
    protected override float Keep => 1f;
    protected override string Spec => "slicer:keep=1,asym=1,blocks=8,delta=0";
}

public sealed class SlicerTopKCodecTests : SlicerCodecTestBase
{
    protected override float Keep => 0.3f;
    protected override string Spec => "slicer:keep=0.3,asym=1,blocks=4,delta=0";
}

/// <summary>The plain top-K baseline: one block, 256 levels, plain magnitude.</summary>
public sealed class SlicerPlainTopKCodecTests : SlicerCodecTestBase
{
    protected override float Keep => 0.1f;
    protected override string Spec => "slicer:keep=0.1,asym=1,blocks=1,delta=0";
}
