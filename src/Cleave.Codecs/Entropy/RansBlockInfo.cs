namespace Cleave.Codecs.Entropy;

/// <summary>
/// What a rANS block is made of, for reports and size accounting: <see cref="HeaderBytes"/> covers the header byte,
/// the two numbers and the frequency table; <see cref="StreamBytes"/> the lane states and the coded words.
/// </summary>
public readonly record struct RansBlockInfo(
    int ScaleBits, int Lanes, int AlphabetSize, int TablePrecision, int HeaderBytes, int TableBytes, int StreamBytes)
{
    public int TotalBytes => HeaderBytes + StreamBytes;
}
