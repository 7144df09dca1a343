using Cleave.Codecs;

namespace Cleave.Runtime.Client;

/// <summary>
/// A frame ready to send, with what making it cost on the device. <see cref="Exit"/> is the device exit's verdict when
/// the split has one; when it exited, the frame is never sent (it is still made, so the bytes saved are exact).
/// </summary>
public sealed record EncodedFrame(byte[] Frame, TensorShape Shape, double HeadMs, double EncodeMs)
{
    public ExitAnswer? Exit { get; init; }

    /// <summary>The gate's choice of codec setting, when the device gates (null otherwise).</summary>
    public GateDecision? Gate { get; init; }

    public bool AnsweredOnDevice => Exit is { Exited: true };
}
