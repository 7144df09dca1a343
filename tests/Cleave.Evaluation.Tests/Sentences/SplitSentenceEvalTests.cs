using Cleave.Codecs;
using Cleave.Evaluation.Sentences;
using Xunit.Abstractions;

namespace Cleave.Evaluation.Tests.Sentences;

/// <summary>all-MiniLM-L6-v2 from the NuGet package on the first STS test pairs (skipped without package or assets).</summary>
public sealed class SplitSentenceEvalTests(ITestOutputHelper output)
{
    /// <summary>The residual stream after encoder block 3 of 6 (half the MACs; see docs/models.md).</summary>
    private const string MidEncoderCut = "522";

    private static readonly Lazy<SentenceEncoderModel> MiniLm = new(() => SentenceEncoderModel.FromMiniLmPackage(TaskAssets.MiniLm!));

    [NeedsAssetsFact(MiniLm = true)]
    public void TokenizesAsUncasedBertWithClsSepAndAccentsStripped()
    {
        var ids = MiniLm.Value.Tokenize("A girl is styling her hair.");
        Assert.Equal(9, ids.Length); // [CLS] a girl is styling her hair . [SEP]
        Assert.Equal(101, ids[0]);
        Assert.Equal(102, ids[^1]);
        Assert.Equal(MiniLm.Value.Tokenize("a GIRL is styling her hair."), ids);
        Assert.Equal(MiniLm.Value.Tokenize("cafe"), MiniLm.Value.Tokenize("Café"));
        Assert.Equal(MiniLm.Value.MaxTokens, MiniLm.Value.Tokenize(string.Join(' ', Enumerable.Repeat("word", 400))).Length);
    }

    [NeedsAssetsFact("text/sts-test.csv", MiniLm = true)]
    public void RawCodecAtAMidEncoderCutReproducesTheUnsplitEmbeddings()
    {
        var pairs = StsBenchmark.Load(TaskAssets.Path("text", "sts-test.csv"), limit: 20);
        using var eval = SplitSentenceEval.Prepare(MiniLm.Value, MidEncoderCut, pairs);
        var raw = eval.Run(FeatureCodecs.Create("raw"));
        var coarse = eval.Run(FeatureCodecs.Create("quant:bits=4,entropy=rans"));
        output.WriteLine($"unsplit {eval.FullSpearman:F4}; raw {raw.Spearman:F4} min cos {raw.MinCosineToUnsplit:F6} {raw.BytesPerToken:F1} B/token; " +
            $"4-bit {coarse.Spearman:F4} mean cos {coarse.MeanCosineToUnsplit:F4} {coarse.BytesPerToken:F1} B/token");

        Assert.True(eval.FullSpearman > 0.7, $"unsplit Spearman {eval.FullSpearman} on 20 pairs");
        Assert.True(raw.MinCosineToUnsplit > 0.9999, $"raw split embeddings reach cosine {raw.MinCosineToUnsplit} only");
        Assert.Equal(eval.FullSpearman, raw.Spearman, 6);
        Assert.InRange(raw.BytesPerToken, 384 * 4 + 0.001, 384 * 4 + 64); // the frame header, shared by a sentence's tokens
        Assert.Equal(384 * 4, raw.Float32BytesPerToken);
        Assert.True(coarse.BytesPerToken * 20 < raw.BytesPerToken);
        Assert.True(coarse.MeanCosineToUnsplit < 0.99, "4-bit per-tensor quantization must visibly change the embeddings");
    }
}
