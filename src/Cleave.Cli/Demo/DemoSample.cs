using Cleave.Models.Preprocessing;

namespace Cleave.Cli.Demo;

/// <summary>One demo image and what happened to it on each path.</summary>
public sealed class DemoSample(LabelledImage image)
{
    public LabelledImage Image { get; } = image;

    /// <summary>Top-1 output index of the whole model run on the device (the reference).</summary>
    public int UnsplitTop1 { get; set; } = -1;

    public DemoPath? Split { get; set; }

    public DemoPath? Jpeg { get; set; }
}

/// <summary>
/// One image through one path (split or JPEG offload): answer, bytes and the latency breakdown in ms. With the split's
/// early exit, an image the exit answered is <see cref="Exited"/>: nothing sent (0 bytes, no network or server time),
/// <see cref="BytesSaved"/> the frame that stayed on the device.
/// </summary>
public sealed record DemoPath(int Top1, int Bytes, double DeviceMs, double EncodeMs, double UplinkMs, double QueueMs,
    double DecodeMs, double TailMs, double DownlinkMs, double TotalMs, bool Exited = false, int BytesSaved = 0);
