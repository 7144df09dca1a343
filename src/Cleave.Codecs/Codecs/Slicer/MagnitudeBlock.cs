using System.Runtime.CompilerServices;

namespace Cleave.Codecs;

/// <summary>
/// One magnitude block as stored in the payload: <see cref="Levels"/> reconstruction magnitudes
/// <c>Low + q · Step</c>, q = 0 .. Levels - 1 (one level: every member is sent as the block's mean magnitude, Low).
/// A survivor's symbol is <c>base(block) + 2q + sign</c>, base(block) = sum of 2 · Levels over the blocks below.
/// </summary>
internal readonly record struct MagnitudeBlock(int Levels, float Low, float Step)
{
    public const int MaxLevels = 256;

    /// <summary>The bit width this block would need if its indices were packed: ⌈log2 Levels⌉ (0 for the mean-only block).</summary>
    public int BitWidth => Levels <= 1 ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)(Levels - 1));

    /// <summary>The decoder's reconstruction, shared with the encoder so its distortion check sees the exact decoded values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Reconstruct(float low, float step, int q) => low + (float)q * step;
}
