namespace Cleave.Models.EarlyExit;

/// <summary>
/// What one threshold does on the calibration images: how many exit on the device, how many of those the exit gets
/// right, how many of the rest the full model gets right, and the agreement of the combined answer with the full model.
/// Accuracy counts against labels when every sample has one, otherwise against the full model's answer.
/// </summary>
public sealed record ExitCurvePoint
{
    public double Threshold { get; init; }
    public int Images { get; init; }
    public int Exited { get; init; }
    public int ExitCorrect { get; init; }
    public int SentCorrect { get; init; }
    public int Agreed { get; init; }

    public int Sent => Images - Exited;
    public double ExitRate => Images == 0 ? 0 : (double)Exited / Images;
    public double Accuracy => Images == 0 ? 0 : (double)(ExitCorrect + SentCorrect) / Images;
    public double Agreement => Images == 0 ? 0 : (double)Agreed / Images;
}
