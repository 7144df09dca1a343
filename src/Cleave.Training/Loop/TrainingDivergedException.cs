namespace Cleave.Training.Loop;

/// <summary>The loss became NaN or infinite. Nothing is saved from the diverged state; the last checkpoint stays as it was.</summary>
public sealed class TrainingDivergedException(long step, double loss)
    : Exception($"training diverged at step {step}: the loss is {loss}; lower the learning rate (nothing was saved from this state)")
{
    public long Step { get; } = step;
    public double Loss { get; } = loss;
}
