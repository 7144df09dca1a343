using System.Buffers;

namespace Cleave.Codecs.Entropy;

/// <summary>
/// A binary range coder (the carry-propagating design of LZMA's coder, written for Cleave): each bit is coded with an
/// 11-bit probability of a 0 that the caller keeps per context and adapts with <see cref="AdaptiveBit"/>, so no
/// frequency table travels: for small alphabets under many contexts, where static tables would cost more than they
/// save. Output: one leading zero byte, then one byte per renormalization, then four.
/// </summary>
public sealed class BinaryRangeEncoder
{
    public const int ProbabilityBits = 11;
    private const uint TopValue = 1u << 24;

    private readonly IBufferWriter<byte> _output;
    private ulong _low;
    private uint _range = uint.MaxValue;
    private byte _cache;
    private long _cacheSize = 1;

    public BinaryRangeEncoder(IBufferWriter<byte> output) => _output = output;

    /// <summary>Bytes written so far (the final count after <see cref="Finish"/>).</summary>
    public long BytesWritten { get; private set; }

    /// <summary>Codes <paramref name="bit"/> (0 or 1) under <paramref name="probability"/> (of a 0, 1..2047 of 2048).</summary>
    public void Encode(uint probability, int bit)
    {
        uint bound = (_range >> ProbabilityBits) * probability;
        if (bit == 0) _range = bound;
        else
        {
            _low += bound;
            _range -= bound;
        }
        while (_range < TopValue)
        {
            _range <<= 8;
            ShiftLow();
        }
    }

    /// <summary>Flushes the coder's state; call once after the last bit.</summary>
    public void Finish()
    {
        for (int i = 0; i < 5; i++) ShiftLow();
    }

    /// <summary>Bytes a compact stream leaves implied: its first (always 0) and the three zeros after its last.</summary>
    public const int CompactImpliedBytes = 4;

    /// <summary>
    /// A shorter flush than <see cref="Finish"/> (2 bytes instead of 5): any value in [low, low + range) identifies the
    /// stream, and the range is at least 2^24, so the one with its low 24 bits zero is among them; only its top byte has to
    /// be written, the three zero bytes after it are implied. Together with the leading zero byte the caller drops, a
    /// stream read by <see cref="BinaryRangeDecoder.Compact"/> is 4 bytes shorter than <see cref="Finish"/>'s. Why: a
    /// compact resilient frame ends one stream per group (docs/format.md, "Layout 2").
    /// </summary>
    public void FinishCompact()
    {
        _low = (_low + 0xFFFFFF) & ~0xFFFFFFUL;
        ShiftLow();
        ShiftLow();
    }

    /// <summary>Emits the top byte of <c>low</c>, holding back runs of 0xFF until a carry can no longer change them.</summary>
    private void ShiftLow()
    {
        if ((uint)_low < 0xFF000000u || (_low >> 32) != 0)
        {
            byte carry = (byte)(_low >> 32);
            byte pending = _cache;
            do
            {
                Write((byte)(pending + carry));
                pending = 0xFF;
            }
            while (--_cacheSize != 0);
            _cache = (byte)((uint)_low >> 24);
        }
        _cacheSize++;
        _low = (_low & 0x00FFFFFF) << 8;
    }

    private void Write(byte value)
    {
        _output.GetSpan(1)[0] = value;
        _output.Advance(1);
        BytesWritten++;
    }
}
