using Cleave.Models.EarlyExit;

namespace Cleave.Evaluation.Classification;

/// <summary>
/// What a split folder's early exit did during an evaluation of one operating point: the threshold it ran at, how many
/// images it answered on the device (nothing sent, 0 bytes) and how many of those it got right, the same for the images
/// sent to the tail, the frame bytes and the tail work the exits saved, and the calibration curve stored with the split
/// (<c>exit.json</c>), so a report can put the measured point on it.
/// </summary>
public sealed record ExitResult
{
    public double Threshold { get; init; }

    /// <summary>Whether <see cref="Threshold"/> is the one calibrated with the split (else it was given).</summary>
    public bool Calibrated { get; init; }

    public int Exited { get; init; }
    public int ExitCorrect { get; init; }
    public int Sent { get; init; }
    public int SentCorrect { get; init; }

    /// <summary>The frames the exited images would have sent (bytes, headers included).</summary>
    public long BytesSaved { get; init; }

    /// <summary>MACs of one tail run (what each exit saves the server).</summary>
    public long TailMacs { get; init; }

    /// <summary>Server decode + tail time of the exited images, measured (the evaluation runs them anyway to know).</summary>
    public double TailMsSaved { get; init; }

    /// <summary>Mean time of the exit head per image (counted in the point's head time too).</summary>
    public double ExitMs { get; init; }

    /// <summary>The curve stored with the split (held-out images), or null when exit.json holds none.</summary>
    public ExitCalibration? Curve { get; init; }

    public int Images => Exited + Sent;
    public double ExitRate => Images == 0 ? 0 : (double)Exited / Images;

    /// <summary>Top-1 of the exit's answers on the images it answered (0 when none did).</summary>
    public double ExitTop1 => Exited == 0 ? 0 : (double)ExitCorrect / Exited;

    /// <summary>Top-1 of the tail's answers on the images that were sent (0 when none were).</summary>
    public double SentTop1 => Sent == 0 ? 0 : (double)SentCorrect / Sent;

    public long TailMacsSaved => Exited * TailMacs;
}
