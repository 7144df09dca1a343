namespace Cleave.Models.Text;

/// <summary>Teacher-forced next-token quality over some tokens: summed negative log-likelihood (nats) and top-1 hits.</summary>
public readonly record struct TextScore(int Predictions, double TotalNll, int Top1Hits)
{
    public double MeanNll => Predictions == 0 ? double.NaN : TotalNll / Predictions;
    public double Perplexity => Math.Exp(MeanNll);
    public double Top1 => Predictions == 0 ? double.NaN : (double)Top1Hits / Predictions;

    public static TextScore operator +(TextScore a, TextScore b) =>
        new(a.Predictions + b.Predictions, a.TotalNll + b.TotalNll, a.Top1Hits + b.Top1Hits);

    /// <summary>Adds one prediction: <paramref name="logits"/> over the vocabulary, <paramref name="target"/> the token that came.</summary>
    public static TextScore Of(ReadOnlySpan<float> logits, int target)
    {
        int best = ArgMax(logits);
        float max = logits[best];
        double sum = 0;
        foreach (float l in logits) sum += Math.Exp(l - max);
        double nll = Math.Log(sum) - (logits[target] - max);
        return new TextScore(1, nll, best == target ? 1 : 0);
    }

    /// <summary>Index of the largest value, the first on ties (run.c's argmax).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}
