namespace Cleave.Runtime.Client;

/// <summary>
/// One image sent by <see cref="ImageClassificationRun"/>: what the device spent (head, encode), what crossed the
/// link, and the server's answer or the error. <see cref="LocalTop1"/> is the in-process split's top-1 for the same
/// frame when a check was asked for.
/// </summary>
public sealed record ImageRequestResult(string Image, int PayloadBytes, double HeadMs, double EncodeMs, SplitResult? Result, string? Error, int? LocalTop1)
{
    public bool Succeeded => Result is not null;
}
