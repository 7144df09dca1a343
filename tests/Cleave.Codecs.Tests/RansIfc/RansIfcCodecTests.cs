namespace Cleave.Codecs.Tests.RansIfc;

/// <summary>
/// The shared codec tests for rans-ifc variants. The bound is the quantization bound scale/2 inside the grid's range
/// (for unclipped specs the grid spans the tensor, so this is the quant codec's bound); values beyond a clipped range
/// may also be off by their distance to it.
/// </summary>
public abstract class RansIfcCodecTestBase : Codecs.CodecTestBase
{
    protected override Func<float, double> ToleranceFor(float[] all)
    {
        var codec = (RansIfcCodec)Codec;
        var grid = codec.FitParameters(all);
        double lo = (0.0 - grid.ZeroPoint) * grid.Scale, hi = (codec.Levels - 1.0 - grid.ZeroPoint) * grid.Scale;
        return x => grid.Scale * (0.5 + 1e-4) + Math.Abs(x) * 1e-6 + Math.Max(0, Math.Max(lo - x, x - hi));
    }
}

public sealed class RansIfc8CodecTests : RansIfcCodecTestBase
{
    protected override string Spec => "rans-ifc:bits=8";
}

/// <summary>A fixed odd width forces the CSR layout with partial last rows on every random shape.</summary>
public sealed class RansIfc4Width7CodecTests : RansIfcCodecTestBase
{
    protected override string Spec => "rans-ifc:bits=4,ncols=7";
}

/// <summary>Width 1: the row counts are the zero mask and every gap is 0.</summary>
public sealed class RansIfc2Width1CodecTests : RansIfcCodecTestBase
{
    protected override string Spec => "rans-ifc:bits=2,ncols=1";
}

public sealed class RansIfcLevelsClipCodecTests : RansIfcCodecTestBase
{
    protected override string Spec => "rans-ifc:bits=5,levels=24,clip=2.5";
}

public sealed class RansIfc12WideCodecTests : RansIfcCodecTestBase
{
    protected override string Spec => "rans-ifc:bits=12,ncols=4095";
}
