using Cleave.Models.EarlyExit;
using Cleave.Training.Data;
using static TorchSharp.torch;

namespace Cleave.Training.EarlyExit;

/// <summary>Runs a head, its exit and the full model over a labelled set in inference mode, giving calibration samples.</summary>
internal static class ExitScoring
{
    /// <param name="head">input -> cut tensor</param>
    /// <param name="exit">cut tensor -> exit logits</param>
    /// <param name="tail">cut tensor -> full model logits</param>
    public static IReadOnlyList<ExitSample> Score(Func<Tensor, Tensor> head, Func<Tensor, Tensor> exit, Func<Tensor, Tensor> tail, IExampleSet data, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(data);
        var samples = new List<ExitSample>(data.Count);
        using var _ = no_grad();
        foreach (var (inputs, labels) in new BatchLoader(data, batchSize, seed: 0).InOrder())
        {
            using var scope = NewDisposeScope();
            var cut = head(inputs);
            var probabilities = exit(cut).softmax(-1);
            var (confidence, exitTop1) = probabilities.max(-1);
            var fullTop1 = tail(cut).argmax(-1);
            float[] c = confidence.data<float>().ToArray();
            long[] e = exitTop1.data<long>().ToArray(), f = fullTop1.data<long>().ToArray();
            long[]? l = labels?.data<long>().ToArray();
            for (int i = 0; i < c.Length; i++)
                samples.Add(new ExitSample(c[i], (int)e[i], (int)f[i], l is null ? -1 : (int)l[i]));
            inputs.Dispose();
            labels?.Dispose();
        }
        return samples;
    }
}
