namespace Cleave.Runtime.Client;

/// <summary>
/// One image sent by <see cref="ImageClassificationRun"/>: what the device spent (head, encode), what crossed the
/// link, and the server's answer or the error. <see cref="LocalTop1"/> is the in-process split's top-1 for the same
/// frame when a check was asked for. <see cref="Exit"/> is the device exit's verdict; when it exited, nothing was sent
/// (<see cref="PayloadBytes"/> 0, <see cref="BytesSaved"/> the frame that stayed on the device).
/// <see cref="PayloadSha256"/> identifies the bytes the device made, so runs on two machines (x64 and an arm64 device,
/// docs/platforms.md) can be compared frame by frame without shipping the frames.
/// </summary>
public sealed record ImageRequestResult(string Image, int PayloadBytes, double HeadMs, double EncodeMs, SplitResult? Result, string? Error, int? LocalTop1)
{
    public ExitAnswer? Exit { get; init; }

    /// <summary>The device gate's choice of codec setting for this image (null without a gate).</summary>
    public GateDecision? Gate { get; init; }
    public int BytesSaved { get; init; }

    /// <summary>SHA-256 of the payload (the frame in split mode, the file in full mode), lowercase hex; "" when unset.</summary>
    public string PayloadSha256 { get; init; } = "";
    public bool AnsweredOnDevice => Exit is { Exited: true };
    public bool Succeeded => Result is not null || AnsweredOnDevice;

    /// <summary>The answer's top-1, from the server or the device's exit; -1 when neither answered.</summary>
    public int Top1 => Result?.Top1 ?? (AnsweredOnDevice ? Exit!.Top1 : -1);
}
