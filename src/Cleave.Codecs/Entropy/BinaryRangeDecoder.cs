namespace Cleave.Codecs.Entropy;

/// <summary>
/// Decodes what <see cref="BinaryRangeEncoder"/> wrote, given the same probabilities in the same order. Never reads
/// outside its input: past the end it reads zeros and records the overrun, so a truncated or forged stream ends in
/// <see cref="ExpectExactEnd"/>'s error rather than an exception from the middle of a loop.
/// </summary>
public ref struct BinaryRangeDecoder
{
    private const uint TopValue = 1u << 24;

    private readonly ReadOnlySpan<byte> _input;
    // A compact stream (BinaryRangeEncoder.FinishCompact) is read as if its leading zero byte and three trailing zero
    // bytes were there: _lead bytes before the input, _tail after it; _position counts the whole virtual stream.
    private readonly int _lead;
    private readonly int _tail;
    private int _position;
    private uint _range;
    private uint _code;

    public BinaryRangeDecoder(ReadOnlySpan<byte> input) : this(input, lead: 0, tail: 0)
    {
    }

    private BinaryRangeDecoder(ReadOnlySpan<byte> input, int lead, int tail)
    {
        _input = input;
        _lead = lead;
        _tail = tail;
        _range = uint.MaxValue;
        if (lead + input.Length + tail < 5 || Next() != 0)
            throw new FrameFormatException(FrameError.CorruptPayload, $"a range-coded stream starts with a zero byte and holds at least 5 bytes; got {input.Length}");
        for (int i = 0; i < 4; i++) _code = (_code << 8) | Next();
    }

    /// <summary>A stream written with <see cref="BinaryRangeEncoder.FinishCompact"/> and stored without its leading
    /// zero byte: <see cref="BinaryRangeEncoder.CompactImpliedBytes"/> fewer bytes than the same stream finished plainly.</summary>
    public static BinaryRangeDecoder Compact(ReadOnlySpan<byte> input) => new(input, lead: 1, tail: BinaryRangeEncoder.CompactImpliedBytes - 1);

    /// <summary>The next bit under <paramref name="probability"/> (of a 0), the one the encoder used for it.</summary>
    public int Decode(uint probability)
    {
        uint bound = (_range >> BinaryRangeEncoder.ProbabilityBits) * probability;
        int bit;
        if (_code < bound)
        {
            _range = bound;
            bit = 0;
        }
        else
        {
            _code -= bound;
            _range -= bound;
            bit = 1;
        }
        if (_range < TopValue)
        {
            _range <<= 8;
            _code = (_code << 8) | Next();
        }
        return bit;
    }

    /// <summary>True once a byte past the end was read: <see cref="ExpectExactEnd"/> can only fail, so a caller may stop early.</summary>
    public readonly bool Overran => _position > _lead + _input.Length + _tail;

    /// <summary>Throws unless the stream was consumed exactly: the encoder's renormalizations and the decoder's match one for one.</summary>
    public readonly void ExpectExactEnd()
    {
        if (_position != _lead + _input.Length + _tail)
            throw new FrameFormatException(FrameError.CorruptPayload,
                $"the range-coded stream holds {_input.Length} bytes but decoding used {_position - _lead - _tail}");
    }

    private byte Next()
    {
        int at = _position++ - _lead;
        return (uint)at < (uint)_input.Length ? _input[at] : (byte)0; // implied zeros, or past the end (counted, so ExpectExactEnd fails)
    }
}
