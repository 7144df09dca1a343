using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Cleave.Codecs.Quantization;

/// <summary>
/// Vectorized asymmetric uniform quantization. The SIMD and scalar paths perform the same float operations in the same
/// order (multiply, then add; no fused multiply-add), so they produce identical symbols: run the tests with
/// <c>DOTNET_EnableHWIntrinsic=0</c> to check the scalar path.
/// Non-finite input: NaN is quantized as 0, +Inf to the top level and -Inf to the bottom level; ranges are computed
/// from finite values only.
/// </summary>
public static class UniformQuantizer
{
    /// <summary>The smallest and largest finite values (both 0 when there are none).</summary>
    public static (float Min, float Max) FiniteRange(ReadOnlySpan<float> values)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        int i = 0;
        if (Vector256.IsHardwareAccelerated && values.Length >= Vector256<float>.Count)
        {
            var vmin = Vector256.Create(float.PositiveInfinity);
            var vmax = Vector256.Create(float.NegativeInfinity);
            ref float start = ref MemoryMarshal.GetReference(values);
            for (; i <= values.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.LoadUnsafe(ref start, (nuint)i);
                var finite = Vector256.Equals(v - v, Vector256<float>.Zero); // Inf - Inf and NaN - NaN are NaN
                vmin = Vector256.Min(vmin, Vector256.ConditionalSelect(finite, v, Vector256.Create(float.PositiveInfinity)));
                vmax = Vector256.Max(vmax, Vector256.ConditionalSelect(finite, v, Vector256.Create(float.NegativeInfinity)));
            }
            for (int lane = 0; lane < Vector256<float>.Count; lane++)
            {
                min = Math.Min(min, vmin[lane]);
                max = Math.Max(max, vmax[lane]);
            }
        }
        for (; i < values.Length; i++)
        {
            float v = values[i];
            if (!float.IsFinite(v)) continue;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return min > max ? (0f, 0f) : (min, max);
    }

    public static QuantizationParameters Fit(ReadOnlySpan<float> values, int bits)
    {
        var (min, max) = FiniteRange(values);
        return QuantizationParameters.FromRange(min, max, bits);
    }

    /// <summary>Quantizes to one byte per value (bits &lt;= 8).</summary>
    public static void Quantize(ReadOnlySpan<float> values, QuantizationParameters p, Span<byte> symbols)
    {
        if (p.Bits > 8) throw new ArgumentException("byte symbols hold at most 8 bits", nameof(p));
        if (symbols.Length < values.Length) throw new ArgumentException("symbol buffer is too short", nameof(symbols));
        var (inverse, offset, top) = Constants(p);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float src = ref MemoryMarshal.GetReference(values);
            ref byte dst = ref MemoryMarshal.GetReference(symbols);
            int step = Vector256<byte>.Count; // 32 values per iteration: four float vectors narrowed to one byte vector
            for (; i <= values.Length - step; i += step)
            {
                var a = Levels(Vector256.LoadUnsafe(ref src, (nuint)i), inverse, offset, top);
                var b = Levels(Vector256.LoadUnsafe(ref src, (nuint)(i + 8)), inverse, offset, top);
                var c = Levels(Vector256.LoadUnsafe(ref src, (nuint)(i + 16)), inverse, offset, top);
                var d = Levels(Vector256.LoadUnsafe(ref src, (nuint)(i + 24)), inverse, offset, top);
                var ab = Vector256.Narrow(a.AsUInt32(), b.AsUInt32());
                var cd = Vector256.Narrow(c.AsUInt32(), d.AsUInt32());
                Vector256.Narrow(ab, cd).StoreUnsafe(ref dst, (nuint)i);
            }
        }
        for (; i < values.Length; i++) symbols[i] = (byte)Level(values[i], inverse, offset, top);
    }

    /// <summary>Quantizes to one 16-bit symbol per value (any bit width).</summary>
    public static void Quantize(ReadOnlySpan<float> values, QuantizationParameters p, Span<ushort> symbols)
    {
        if (symbols.Length < values.Length) throw new ArgumentException("symbol buffer is too short", nameof(symbols));
        var (inverse, offset, top) = Constants(p);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float src = ref MemoryMarshal.GetReference(values);
            ref ushort dst = ref MemoryMarshal.GetReference(symbols);
            for (; i <= values.Length - 16; i += 16)
            {
                var a = Levels(Vector256.LoadUnsafe(ref src, (nuint)i), inverse, offset, top);
                var b = Levels(Vector256.LoadUnsafe(ref src, (nuint)(i + 8)), inverse, offset, top);
                Vector256.Narrow(a.AsUInt32(), b.AsUInt32()).StoreUnsafe(ref dst, (nuint)i);
            }
        }
        for (; i < values.Length; i++) symbols[i] = (ushort)Level(values[i], inverse, offset, top);
    }

    public static void Dequantize(ReadOnlySpan<byte> symbols, QuantizationParameters p, Span<float> values)
    {
        if (values.Length < symbols.Length) throw new ArgumentException("value buffer is too short", nameof(values));
        float zero = p.ZeroPoint, scale = p.Scale;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref byte src = ref MemoryMarshal.GetReference(symbols);
            ref float dst = ref MemoryMarshal.GetReference(values);
            var vzero = Vector256.Create(zero);
            var vscale = Vector256.Create(scale);
            for (; i <= symbols.Length - 32; i += 32)
            {
                var bytes = Vector256.LoadUnsafe(ref src, (nuint)i);
                var (lo, hi) = Vector256.Widen(bytes);
                var (q0, q1) = Vector256.Widen(lo);
                var (q2, q3) = Vector256.Widen(hi);
                ((Vector256.ConvertToSingle(q0.AsInt32()) - vzero) * vscale).StoreUnsafe(ref dst, (nuint)i);
                ((Vector256.ConvertToSingle(q1.AsInt32()) - vzero) * vscale).StoreUnsafe(ref dst, (nuint)(i + 8));
                ((Vector256.ConvertToSingle(q2.AsInt32()) - vzero) * vscale).StoreUnsafe(ref dst, (nuint)(i + 16));
                ((Vector256.ConvertToSingle(q3.AsInt32()) - vzero) * vscale).StoreUnsafe(ref dst, (nuint)(i + 24));
            }
        }
        for (; i < symbols.Length; i++) values[i] = ((float)symbols[i] - zero) * scale;
    }

    public static void Dequantize(ReadOnlySpan<ushort> symbols, QuantizationParameters p, Span<float> values)
    {
        if (values.Length < symbols.Length) throw new ArgumentException("value buffer is too short", nameof(values));
        float zero = p.ZeroPoint, scale = p.Scale;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref ushort src = ref MemoryMarshal.GetReference(symbols);
            ref float dst = ref MemoryMarshal.GetReference(values);
            var vzero = Vector256.Create(zero);
            var vscale = Vector256.Create(scale);
            for (; i <= symbols.Length - 16; i += 16)
            {
                var (q0, q1) = Vector256.Widen(Vector256.LoadUnsafe(ref src, (nuint)i));
                ((Vector256.ConvertToSingle(q0.AsInt32()) - vzero) * vscale).StoreUnsafe(ref dst, (nuint)i);
                ((Vector256.ConvertToSingle(q1.AsInt32()) - vzero) * vscale).StoreUnsafe(ref dst, (nuint)(i + 8));
            }
        }
        for (; i < symbols.Length; i++) values[i] = ((float)symbols[i] - zero) * scale;
    }

    private static (float Inverse, float Offset, float Top) Constants(QuantizationParameters p)
    {
        if (!p.IsValid) throw new ArgumentException($"invalid quantization parameters {p}", nameof(p));
        // Adding 0.5 before truncating rounds half up; clamping first keeps the truncation within 0..MaxLevel.
        return (1f / p.Scale, p.ZeroPoint + 0.5f, p.MaxLevel);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Level(float x, float inverse, float offset, float top)
    {
        if (float.IsNaN(x)) x = 0;
        float u = x * inverse;
        u += offset;
        u = Math.Min(Math.Max(u, 0f), top);
        return (int)u;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Levels(Vector256<float> x, float inverse, float offset, float top)
    {
        x = Vector256.ConditionalSelect(Vector256.Equals(x, x), x, Vector256<float>.Zero); // NaN -> 0
        var u = x * Vector256.Create(inverse);
        u += Vector256.Create(offset);
        u = Vector256.Min(Vector256.Max(u, Vector256<float>.Zero), Vector256.Create(top));
        return Vector256.ConvertToInt32(u);
    }
}
