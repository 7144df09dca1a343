namespace Cleave.Codecs;

/// <summary>What is wrong with an encoded frame or stream; lets callers react without parsing messages.</summary>
public enum FrameError
{
    Truncated,
    BadMagic,
    UnsupportedVersion,
    UnknownCodec,
    BadDataType,
    BadShape,
    BadParameters,
    ChecksumMismatch,
    LimitExceeded,
    CorruptPayload,
    TrailingBytes,
}

/// <summary>
/// Thrown when encoded bytes (a frame, its payload, an entropy-coded stream, a .npy file) are truncated, corrupted
/// or hostile. Decoders throw only this type for bad input, so a server can answer a typed error and keep running.
/// </summary>
public sealed class FrameFormatException : FormatException
{
    public FrameFormatException(FrameError error, string message) : base(message) => Error = error;

    public FrameError Error { get; }
}
