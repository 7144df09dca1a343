using System.Numerics;

namespace Cleave.Codecs;

/// <summary>
/// What a decoder's pooled scratch buffer costs when the pool has none to lend: <see cref="System.Buffers.ArrayPool{T}.Shared"/>
/// rounds a request up to a power of two (at least 16 elements), so a buffer for 58.7 M ushorts takes 128 MiB, not 112.
/// </summary>
internal static class ScratchSize
{
    public static long Pooled(long elements, int elementSize)
    {
        if (elements <= 0) return 0;
        ulong rounded = BitOperations.RoundUpToPowerOf2((ulong)Math.Max(16, elements));
        return (long)Math.Min(rounded, 1UL << 40) * elementSize;
    }
}
