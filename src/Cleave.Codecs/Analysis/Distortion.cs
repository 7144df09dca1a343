namespace Cleave.Codecs.Analysis;

/// <summary>
/// How far a reconstruction is from the original, over the elements that are finite in the original (non-finite
/// inputs have no meaningful error; they are counted instead).
/// </summary>
public readonly record struct Distortion(double MeanSquaredError, double RelativeMse, double SnrDb, double MaxAbsError, int NonFiniteInputs)
{
    /// <summary>True when every finite element came back exactly (SNR is then infinite).</summary>
    public bool IsExact => MaxAbsError == 0;

    public static Distortion Measure(ReadOnlySpan<float> original, ReadOnlySpan<float> reconstructed)
    {
        if (original.Length != reconstructed.Length) throw new ArgumentException("tensors differ in length");
        double signal = 0, noise = 0, maxError = 0;
        int nonFinite = 0, counted = 0;
        for (int i = 0; i < original.Length; i++)
        {
            double x = original[i];
            if (!double.IsFinite(x)) { nonFinite++; continue; }
            double e = x - reconstructed[i];
            if (double.IsNaN(e)) e = double.PositiveInfinity;
            signal += x * x;
            noise += e * e;
            maxError = Math.Max(maxError, Math.Abs(e));
            counted++;
        }
        double mse = counted == 0 ? 0 : noise / counted;
        double relative = signal > 0 ? noise / signal : (noise > 0 ? double.PositiveInfinity : 0);
        double snr = noise == 0 ? double.PositiveInfinity : 10 * Math.Log10(signal / noise);
        return new Distortion(mse, relative, snr, maxError, nonFinite);
    }
}
