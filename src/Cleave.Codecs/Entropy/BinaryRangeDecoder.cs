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
    private int _position;
    private uint _range;
    private uint _code;

    public BinaryRangeDecoder(ReadOnlySpan<byte> input)
    {
        _input = input;
        _range = uint.MaxValue;
        if (input.Length < 5 || input[0] != 0)
            throw new FrameFormatException(FrameError.CorruptPayload, $"a range-coded stream starts with a zero byte and holds at least 5 bytes; got {input.Length}");
        _position = 1;
        for (int i = 0; i < 4; i++) _code = (_code << 8) | Next();
    }

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
    public readonly bool Overran => _position > _input.Length;

    /// <summary>Throws unless the stream was consumed exactly: the encoder's renormalizations and the decoder's match one for one.</summary>
    public readonly void ExpectExactEnd()
    {
        if (_position != _input.Length)
            throw new FrameFormatException(FrameError.CorruptPayload,
                $"the range-coded stream holds {_input.Length} bytes but decoding used {_position}");
    }

    private byte Next() => _position < _input.Length ? _input[_position++] : Overrun();

    private byte Overrun()
    {
        _position++; // counted, so ExpectExactEnd fails
        return 0;
    }
}
