using System.Buffers;
using System.Runtime.CompilerServices;

namespace Cleave.Codecs;

/// <summary>
/// Asymmetric top-K filtering (ATKF): keeps exactly K elements, those with the largest score
/// <c>x</c> for x &gt;= 0 and <c>asym · |x|</c> for x &lt; 0 (NaN scores 0, ±Inf scores +Inf). Activations after
/// ReLU-family functions are skewed (negatives are fewer and smaller), so asym &lt; 1 spends the budget on positives.
/// The K-th largest score is found with <see cref="RadixSelect"/> in O(n); elements tied with it are chosen by a
/// fixed seeded hash of their index (a bijection, so the choice is total and the same on every machine).
/// </summary>
internal static class AsymmetricTopK
{
    private const uint TieSeed = 0x9E3779B9;

    /// <summary>Writes the ascending indices of the K survivors to <paramref name="survivors"/> (length K).</summary>
    public static void Select(ReadOnlySpan<float> values, float asymmetry, Span<int> survivors)
    {
        int n = values.Length, k = survivors.Length;
        if (k == n)
        {
            for (int i = 0; i < n; i++) survivors[i] = i;
            return;
        }
        if (k == 0) return;

        uint[] scores = ArrayPool<uint>.Shared.Rent(n);
        try
        {
            var keys = scores.AsSpan(0, n);
            for (int i = 0; i < n; i++) keys[i] = ScoreKey(values[i], asymmetry);
            uint threshold = RadixSelect.Select(keys, n - k);

            int greater = 0, equal = 0;
            foreach (uint key in keys)
            {
                if (key > threshold) greater++;
                else if (key == threshold) equal++;
            }
            int tiesKept = k - greater;
            uint hashLimit = uint.MaxValue;
            if (tiesKept < equal)
            {
                uint[] hashes = ArrayPool<uint>.Shared.Rent(equal);
                try
                {
                    int t = 0;
                    for (int i = 0; i < n; i++) if (keys[i] == threshold) hashes[t++] = TieHash(i);
                    hashLimit = RadixSelect.Select(hashes.AsSpan(0, equal), tiesKept - 1);
                }
                finally { ArrayPool<uint>.Shared.Return(hashes); }
            }

            int at = 0;
            for (int i = 0; i < n; i++)
            {
                uint key = keys[i];
                if (key > threshold || (key == threshold && TieHash(i) <= hashLimit)) survivors[at++] = i;
            }
            if (at != k) throw new InvalidOperationException($"top-K kept {at} elements instead of {k}");
        }
        finally { ArrayPool<uint>.Shared.Return(scores); }
    }

    /// <summary>The score as the bit pattern of a non-negative float (ordered like the score).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint ScoreKey(float x, float asymmetry)
    {
        if (float.IsNaN(x)) return 0;
        float score = x >= 0 ? x : -x * asymmetry;
        if (!(score >= 0)) score = 0; // asym = 0 times -Inf
        return BitConverter.SingleToUInt32Bits(score) & 0x7FFF_FFFF; // -0 scores like +0
    }

    /// <summary>murmur3's 32-bit finalizer: a bijection, so two indices never tie.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint TieHash(int index)
    {
        uint h = (uint)index ^ TieSeed;
        h ^= h >> 16;
        h *= 0x85EBCA6B;
        h ^= h >> 13;
        h *= 0xC2B2AE35;
        h ^= h >> 16;
        return h;
    }
}
