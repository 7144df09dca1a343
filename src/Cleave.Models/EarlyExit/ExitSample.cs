namespace Cleave.Models.EarlyExit;

/// <summary>
/// One held-out image as calibration sees it: the exit head's confidence (its top softmax probability) and top-1, the
/// full model's top-1, and the label's class when known (-1 otherwise: agreement with the full model is used then).
/// </summary>
public readonly record struct ExitSample(float Confidence, int ExitTop1, int FullTop1, int Label = -1);
