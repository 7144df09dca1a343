namespace Cleave.Codecs;

/// <summary>
/// Bounds a decoder honours before it allocates, so a hostile header cannot make a server reserve gigabytes.
/// </summary>
public sealed record DecodeLimits
{
    /// <summary>Default cap on the decoded tensor: 256 MiB.</summary>
    public const long DefaultMaxDecodedBytes = 256L * 1024 * 1024;

    public static DecodeLimits Default { get; } = new();

    /// <summary>Largest decoded tensor, in bytes of float32 output, that a decoder will allocate.</summary>
    public long MaxDecodedBytes { get; init; } = DefaultMaxDecodedBytes;

    public void EnsureElementCount(long elements)
    {
        if (elements < 0 || elements * sizeof(float) > MaxDecodedBytes)
            throw new FrameFormatException(FrameError.LimitExceeded,
                $"decoded tensor of {elements} elements ({elements * 4L} bytes as float32) exceeds the limit of {MaxDecodedBytes} bytes");
    }
}
