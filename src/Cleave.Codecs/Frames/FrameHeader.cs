namespace Cleave.Codecs;

/// <summary>The validated fixed fields of a frame, with where its parameters and payload lie inside it.</summary>
public sealed record FrameHeader(
    byte Version,
    CodecId Codec,
    TensorDataType DataType,
    TensorShape Shape,
    int ParametersOffset,
    int ParametersLength,
    int PayloadOffset,
    int PayloadLength)
{
    /// <summary>Total frame length: header, payload and the 4-byte checksum.</summary>
    public int FrameLength => PayloadOffset + PayloadLength + FeatureFrame.ChecksumSize;
}
