using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Cleave.Codecs;

/// <summary>
/// Enumerates, in increasing order, the positions of symbols that differ from the background. Sixteen symbols are
/// compared at once and the set bits of the mask are walked, so the cost follows the foreground count instead of
/// paying a mispredicted branch per element; without SIMD a scalar loop builds the same masks.
/// </summary>
internal ref struct ForegroundPositions
{
    private const int Chunk = 16;
    private readonly ReadOnlySpan<ushort> _symbols;
    private readonly ushort _background;
    private int _chunkStart;
    private uint _mask;

    public ForegroundPositions(ReadOnlySpan<ushort> symbols, ushort background)
    {
        _symbols = symbols;
        _background = background;
        _chunkStart = -Chunk;
        _mask = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool MoveNext(out int position)
    {
        while (_mask == 0)
        {
            _chunkStart += Chunk;
            if (_chunkStart >= _symbols.Length)
            {
                position = -1;
                return false;
            }
            _mask = MaskAt(_chunkStart);
        }
        position = _chunkStart + BitOperations.TrailingZeroCount(_mask);
        _mask &= _mask - 1;
        return true;
    }

    private readonly uint MaskAt(int start)
    {
        if (Vector256.IsHardwareAccelerated && start + Chunk <= _symbols.Length)
        {
            var v = Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(_symbols), (nuint)start);
            return ~Vector256.Equals(v, Vector256.Create(_background)).ExtractMostSignificantBits() & 0xFFFF;
        }
        uint mask = 0;
        int end = Math.Min(start + Chunk, _symbols.Length);
        for (int i = start; i < end; i++)
            if (_symbols[i] != _background) mask |= 1u << (i - start);
        return mask;
    }
}
