namespace Cleave.Codecs;

/// <summary>
/// What one slicer encode produced: the exact squared error of the reconstruction (finite inputs only) and how.
/// <see cref="CappedBlocks"/> counts blocks whose error exceeds the delta budget because 256 levels (or the 4096-symbol
/// alphabet) were not enough; when it is 0, the quantization error of every block is within its budget.
/// </summary>
public readonly record struct SlicerEncodeResult(
    int Survivors, int Blocks, int CappedBlocks, double SquaredError, double SignalEnergy, SlicerSettings Settings)
{
    /// <summary>10 log10(signal / error), as <see cref="Analysis.Distortion"/> measures it (infinite when exact).</summary>
    public double SnrDb => SquaredError == 0 ? double.PositiveInfinity : 10 * Math.Log10(SignalEnergy / SquaredError);
}
