using Cleave.Models.Importers.Llama2c;
using Cleave.Models.Text;

namespace Cleave.Runtime.Generation;

/// <summary>
/// Calibration samples for the per-session token codec without any data set: the model writes its own text (seeded
/// sampling at temperature 1 from BOS, restarted at each BOS) and the head turns it into the hidden states that would
/// cross the cut. Whoever prepares the model does this once; the fitted quantizer then travels as session state.
/// </summary>
public static class TokenCodecCalibration
{
    public const int DefaultTokens = 1024;
    public const ulong DefaultSeed = 7;

    /// <returns>Hidden states at split layer k, rows of <c>dim</c> values, about <paramref name="tokens"/> rows.</returns>
    public static float[] SelfGenerated(LlamaModelFolder model, int splitLayer, int tokens = DefaultTokens, ulong seed = DefaultSeed) =>
        SelfGeneratedRows(model, splitLayer, tokens, seed).Hidden;

    /// <summary>As <see cref="SelfGenerated"/>, with the input token of every row (what a token prediction table is fitted on).</summary>
    public static TokenCalibrationRows SelfGeneratedRows(LlamaModelFolder model, int splitLayer, int tokens = DefaultTokens, ulong seed = DefaultSeed)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
        string headPath = Path.Combine(model.Directory, Llama2cExport.HeadFile(splitLayer));
        if (!File.Exists(headPath)) throw new FileNotFoundException($"{headPath} is missing: import the checkpoint with --splits", headPath);

        var sequences = new List<int[]>();
        var sampling = new SamplingSettings(Temperature: 1, Seed: seed);
        using (var full = model.CreateSession())
        {
            int total = 0;
            for (int story = 0; total < tokens; story++)
            {
                full.Reset();
                var sequence = new List<int> { Llama2cTokenizer.Bos };
                float[] logits = full.Prefill([Llama2cTokenizer.Bos]);
                int limit = Math.Min(model.Config.SeqLen, tokens - total + 1);
                while (sequence.Count < limit)
                {
                    int next = TokenSampler.Sample(logits, sampling with { Seed = seed + (ulong)story * 1_000_003 }, full.Position);
                    if (next == Llama2cTokenizer.Bos) break;
                    sequence.Add(next);
                    logits = full.Step(next);
                }
                sequences.Add([.. sequence]);
                total += sequence.Count;
            }
        }

        var samples = new List<float>(tokens * model.Config.Dim);
        var inputTokens = new List<int>(tokens);
        using var head = new KvCacheSession(headPath);
        foreach (var sequence in sequences)
        {
            head.Reset();
            samples.AddRange(head.Run(sequence));
            inputTokens.AddRange(sequence);
        }
        return new TokenCalibrationRows([.. samples], [.. inputTokens]);
    }
}

/// <summary>Hidden states at the cut (rows of d values) and the input token each row was computed from.</summary>
public sealed record TokenCalibrationRows(float[] Hidden, int[] InputTokens);
