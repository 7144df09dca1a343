using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
            uint asymmetryBits = BitConverter.SingleToUInt32Bits(asymmetry), oneBits = BitConverter.SingleToUInt32Bits(1f);
            int scored = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                // The loop below, 8 at a time (the same float32 multiply per element).
                var asymmetryVector = Vector256.Create(asymmetry);
                var magnitudeMask = Vector256.Create(0x7FFF_FFFFu);
                for (; scored <= n - 8; scored += 8)
                {
                    var bits = Vector256.Create(values.Slice(scored, 8)).AsUInt32();
                    var negative = Vector256.ShiftRightArithmetic(bits.AsInt32(), 31).AsSingle();
                    var weight = Vector256.ConditionalSelect(negative, asymmetryVector, Vector256<float>.One);
                    var score = (bits & magnitudeMask).AsSingle() * weight;
                    var valid = Vector256.GreaterThanOrEqual(score, Vector256<float>.Zero); // false for NaN
                    (score.AsUInt32() & valid.AsUInt32()).CopyTo(keys.Slice(scored, 8));
                }
            }
            for (int i = scored; i < n; i++)
            {
                // ScoreKey without the sign branch (signs are random): the weight is asym for negatives, else 1.
                uint bits = BitConverter.SingleToUInt32Bits(values[i]);
                uint negative = (uint)((int)bits >> 31);
                float weight = BitConverter.UInt32BitsToSingle((asymmetryBits & negative) | (oneBits & ~negative));
                float score = BitConverter.UInt32BitsToSingle(bits & 0x7FFF_FFFF) * weight;
                keys[i] = score >= 0 ? BitConverter.SingleToUInt32Bits(score) : 0; // NaN, and asym = 0 times Inf, score 0
            }
            uint threshold = RadixSelect.Select(keys, n - k);

            // One pass: elements above the threshold go straight to the survivors (ascending); ties are collected.
            int[] tieArray = ArrayPool<int>.Shared.Rent(n);
            try
            {
                int greater = 0, equal = 0;
                for (int i = 0; i < n; i++)
                {
                    uint key = keys[i];
                    // Branch-free append (which elements pass is random): the slot is written always and kept only
                    // when the key is above the threshold. greater stays <= k - 1, since the threshold is the k-th.
                    survivors[greater] = i;
                    greater += key > threshold ? 1 : 0;
                    if (key == threshold) tieArray[equal++] = i;
                }
                int tiesKept = k - greater;
                var ties = tieArray.AsSpan(0, equal);
                if (tiesKept < equal)
                {
                    uint[] hashes = ArrayPool<uint>.Shared.Rent(equal);
                    try
                    {
                        for (int t = 0; t < equal; t++) hashes[t] = TieHash(ties[t]);
                        uint hashLimit = RadixSelect.Select(hashes.AsSpan(0, equal), tiesKept - 1);
                        int kept = 0;
                        for (int t = 0; t < equal; t++) if (hashes[t] <= hashLimit) ties[kept++] = ties[t];
                        ties = ties[..kept];
                    }
                    finally { ArrayPool<uint>.Shared.Return(hashes); }
                }
                if (greater + ties.Length != k) throw new InvalidOperationException($"top-K kept {greater + ties.Length} elements instead of {k}");

                // Merge the two ascending lists from the back, in place.
                int a = greater - 1, b = ties.Length - 1;
                for (int at = k - 1; b >= 0; at--)
                    survivors[at] = a >= 0 && survivors[a] > ties[b] ? survivors[a--] : ties[b--];
            }
            finally { ArrayPool<int>.Shared.Return(tieArray); }
        }
        finally { ArrayPool<uint>.Shared.Return(scores); }
    }

    /// <summary>The score as the bit pattern of a non-negative float (ordered like the score); the reference for the branch-free loop in Select.</summary>
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
