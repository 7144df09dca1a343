using System.Runtime.InteropServices;

namespace Cleave.Codecs.Entropy;

/// <summary>
/// Per-symbol encoder constants that replace the division in C(s, x) = (x / f) * M + x % f + start by a
/// multiply-high with a 64-bit reciprocal (Alverson's method, as in ryg_rans):
/// q = floor(x * Reciprocal / 2^64), x' = x + Bias + q * Complement. For x &lt; 2^32 and f &lt;= 2^15 the quotient is exact.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 8)]
internal struct RansEncodeSymbol
{
    public ulong Reciprocal;
    /// <summary>Renormalize (emit 16 bits) while x &gt;= this: f * 2^(32 - k).</summary>
    public uint StateLimit;
    public ushort Bias;
    public ushort Complement;

    public static RansEncodeSymbol Create(int start, int frequency, int scaleBits)
    {
        int total = 1 << scaleBits;
        var symbol = new RansEncodeSymbol
        {
            StateLimit = (uint)((ulong)frequency << (32 - scaleBits)),
            Complement = (ushort)(total - frequency),
        };
        if (frequency == 1)
        {
            // The reciprocal of 1 does not fit: use 2^64 - 1, which gives q = x - 1, and fold the -1 into the bias
            // (x + start + M - 1 + (x - 1)(M - 1) = x * M + start).
            symbol.Reciprocal = ulong.MaxValue;
            symbol.Bias = (ushort)(start + total - 1);
        }
        else
        {
            symbol.Reciprocal = ulong.MaxValue / (ulong)frequency + 1; // ceil(2^64 / f)
            symbol.Bias = (ushort)start;
        }
        return symbol;
    }
}
