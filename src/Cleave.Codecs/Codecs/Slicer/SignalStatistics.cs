using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Cleave.Codecs;

/// <summary>Energy, finite count and largest finite magnitude of a tensor in one vectorized pass (the slicer's budget unit).</summary>
internal static class SignalStatistics
{
    public static (double Energy, int Finite, float MaxFinite) Measure(ReadOnlySpan<float> values)
    {
        double energy = 0;
        int finite = 0, i = 0;
        float max = 0;
        if (Vector256.IsHardwareAccelerated && values.Length >= 8)
        {
            ref float start = ref MemoryMarshal.GetReference(values);
            var sum0 = Vector256<double>.Zero;
            var sum1 = Vector256<double>.Zero;
            var vmax = Vector256<float>.Zero;
            for (; i <= values.Length - 8; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref start, (nuint)i);
                var isFinite = Vector256.Equals(v - v, Vector256<float>.Zero); // Inf - Inf and NaN - NaN are NaN
                v = Vector256.ConditionalSelect(isFinite, v, Vector256<float>.Zero);
                finite += BitOperations.PopCount(isFinite.ExtractMostSignificantBits());
                vmax = Vector256.Max(vmax, Vector256.Abs(v));
                var (lo, hi) = Vector256.Widen(v);
                sum0 += lo * lo;
                sum1 += hi * hi;
            }
            energy = Vector256.Sum(sum0 + sum1);
            for (int lane = 0; lane < 8; lane++) max = Math.Max(max, vmax[lane]);
        }
        for (; i < values.Length; i++)
        {
            float x = values[i];
            if (!float.IsFinite(x)) continue;
            energy += (double)x * x;
            finite++;
            float a = Math.Abs(x);
            if (a > max) max = a;
        }
        return (energy, finite, max);
    }
}
