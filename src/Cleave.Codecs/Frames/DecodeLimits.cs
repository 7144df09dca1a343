namespace Cleave.Codecs;

/// <summary>
/// Bounds a decoder honours before it allocates or works, so a hostile header cannot make a server reserve gigabytes
/// or spin for seconds. Both are checked from the frame's header and the first bytes of its payload, before any buffer
/// proportional to the tensor exists (docs/security.md, "Decoder cost limits").
/// </summary>
public sealed record DecodeLimits
{
    /// <summary>Default cap on the decoded tensor and on one decode's allocations: 256 MiB.</summary>
    public const long DefaultMaxDecodedBytes = 256L * 1024 * 1024;

    public static DecodeLimits Default { get; } = new();

    /// <summary>Largest decoded tensor, in bytes of float32 output, that a decoder will accept.</summary>
    /// <remarks>
    /// This is also the bound on a decode's work where a codec can legitimately describe a huge constant tensor in a few
    /// bytes (a single-symbol rANS block, a zstd frame of zeros): filling the output runs at memory speed, so the work is
    /// in proportion to what this limit allows. Where a codec's layout cannot code an element in fewer than a known
    /// number of bits (raw, fp16, packed quant, the context-coded layouts), a frame whose payload is too short for its
    /// claimed shape is refused before anything is allocated.
    /// </remarks>
    public long MaxDecodedBytes { get; init; } = DefaultMaxDecodedBytes;

    /// <summary>
    /// Most bytes one decode call may allocate in proportion to the tensor: the output array of the allocating
    /// <see cref="FeatureFrame.Decode(ReadOnlySpan{byte}, out TensorShape, DecodeLimits?)"/> plus the decoder's scratch
    /// buffers (symbols, rANS streams), counted at the size the shared array pool hands out (the next power of two),
    /// as if nothing were pooled yet: the first call in a process stays within it too.
    /// </summary>
    public long MaxAllocatedBytes { get; init; } = DefaultMaxDecodedBytes;

    public void EnsureElementCount(long elements)
    {
        if (!AllowsElementCount(elements)) throw new FrameFormatException(FrameError.LimitExceeded, ElementCountMessage(elements));
    }

    /// <summary>The check of <see cref="EnsureElementCount"/> without the exception (the non-throwing decode).</summary>
    public bool AllowsElementCount(long elements) => elements >= 0 && elements * sizeof(float) <= MaxDecodedBytes;

    internal string ElementCountMessage(long elements) =>
        $"decoded tensor of {elements} elements ({elements * 4L} bytes as float32) exceeds the limit of {MaxDecodedBytes} bytes";

    /// <summary>Refuses a decode that would allocate <paramref name="outputBytes"/> + <paramref name="scratchBytes"/>.</summary>
    public void EnsureAllocation(long outputBytes, long scratchBytes)
    {
        long total = outputBytes + scratchBytes; // each is below 2^40: no overflow
        if (!AllowsAllocation(outputBytes, scratchBytes))
            throw new FrameFormatException(FrameError.LimitExceeded,
                $"decoding would allocate {total} bytes ({outputBytes} of output, {scratchBytes} of decoder scratch), more than the limit of {MaxAllocatedBytes} bytes");
    }

    /// <summary>The check of <see cref="EnsureAllocation"/> without the exception (the non-throwing decode).</summary>
    public bool AllowsAllocation(long outputBytes, long scratchBytes) =>
        outputBytes >= 0 && scratchBytes >= 0 && outputBytes + scratchBytes <= MaxAllocatedBytes;
}
