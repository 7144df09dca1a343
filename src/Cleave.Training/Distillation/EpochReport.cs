namespace Cleave.Training.Distillation;

/// <summary>One epoch of a cached-feature training run, as reported to the caller.</summary>
public sealed record EpochReport(string Stage, int Epoch, int Epochs, double Loss, double Kl, double FeatureError, double BitsPerElement,
    double ValidationAgreement, double ValidationTop1, double ValidationKl, double ValidationBytes, double Seconds, long RssBytes);
