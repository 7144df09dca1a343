using Cleave.Codecs;

namespace Cleave.Cli.Tests;

/// <summary>
/// How two frames of the same tensor (made on two machines) differ once decoded: whether they carry the same codec
/// and shape, the largest difference of a value, and how many values sit a quantization step or more apart.
/// </summary>
public sealed record FrameComparison(bool SameLayout, bool Identical, int Values, double MaxDifference, double Step, int ValuesOffByAStep)
{
    /// <param name="levels">quantization steps between the tensor's least and greatest value (2^bits - 1)</param>
    public static FrameComparison Of(byte[] reference, byte[] other, int levels)
    {
        var a = FeatureFrame.Decode(reference, out var shapeA);
        var b = FeatureFrame.Decode(other, out var shapeB);
        string codecA = FeatureFrame.ReadCodec(reference, FeatureFrame.ReadHeader(reference)).Spec;
        string codecB = FeatureFrame.ReadCodec(other, FeatureFrame.ReadHeader(other)).Spec;
        bool sameLayout = codecA == codecB && shapeA.Dimensions.SequenceEqual(shapeB.Dimensions);
        if (!sameLayout) return new(false, false, a.Length, double.NaN, double.NaN, a.Length);
        double step = (a.Max() - a.Min()) / (double)levels;
        double max = 0;
        int off = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs((double)a[i] - b[i]);
            max = Math.Max(max, d);
            if (d > step / 2) off++;
        }
        return new(true, reference.AsSpan().SequenceEqual(other), a.Length, max, step, off);
    }

    public override string ToString() => !SameLayout ? "different codec or shape"
        : Identical ? $"identical frames ({Values} values)"
        : $"{ValuesOffByAStep}/{Values} values a quantization step apart, max difference {MaxDifference:G3} (step {Step:G3})";
}
