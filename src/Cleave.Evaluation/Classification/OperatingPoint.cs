namespace Cleave.Evaluation.Classification;

/// <summary>
/// One configuration measured over a dataset: a codec at a split (<see cref="Kind"/> "split"), the whole model on the
/// device ("local", nothing sent) or the input image sent to a server that runs the whole model ("jpeg", "webp").
/// Accuracies are fractions in [0, 1]; bytes are whole transmitted messages (frame headers included); milliseconds
/// are means per image; <see cref="HeadMacs"/> and <see cref="HeadParams"/> are what the device runs and stores.
/// </summary>
public sealed record OperatingPoint
{
    public required string Kind { get; init; }
    public string? Split { get; init; }
    public required string Codec { get; init; }

    /// <summary>Codec family label from the sweep list (e.g. "quant+rANS"), or the baseline kind.</summary>
    public string Family { get; init; } = "";
    public int Images { get; init; }
    public double Top1 { get; init; }
    public double Top5 { get; init; }

    /// <summary>Fraction of images whose top-1 class equals the unsplit model's top-1.</summary>
    public double Agreement { get; init; }

    /// <summary>Mean KL(unsplit output || this output).</summary>
    public double MeanKl { get; init; }
    public double BytesMean { get; init; }
    public double BytesP95 { get; init; }

    /// <summary>Size of the cut tensor as float32, no header (0 for baselines).</summary>
    public double Float32Bytes { get; init; }
    public long HeadParams { get; init; }
    public long HeadMacs { get; init; }
    public double HeadMs { get; init; }
    public double EncodeMs { get; init; }
    public double DecodeMs { get; init; }
    public double TailMs { get; init; }

    /// <summary>
    /// The split folder's early exit, when it ran: then accuracies count the exit's answer for the images it answered,
    /// and bytes, encode, decode and tail count 0 for them (nothing is sent); head time includes the exit.
    /// </summary>
    public ExitResult? Exit { get; init; }

    public bool IsSplit => Kind == "split";
    public bool IsImageOffload => Kind is "jpeg" or "webp";

    /// <summary>Float32 bytes over sent bytes: how much the codec shrank the cut tensor (0 for baselines).</summary>
    public double CompressionVsFloat32 => IsSplit && BytesMean > 0 ? Float32Bytes / BytesMean : 0;

    /// <summary>Readable name: "expanded_conv_5/add quant:bits=4,..." or "jpeg:q=75".</summary>
    public string Label => Split is null ? Codec : $"{ShortSplitName(Split)} {Codec}";

    /// <summary>A tensor name without its model-name scope (MobilenetV2/expanded_conv_5/add -> expanded_conv_5/add).</summary>
    public static string ShortSplitName(string split)
    {
        int slash = split.IndexOf('/');
        return slash > 0 && split.IndexOf('/', slash + 1) > 0 ? split[(slash + 1)..] : split;
    }
}
