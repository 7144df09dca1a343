using Cleave.Evaluation.Sentences;

namespace Cleave.Evaluation.Tests.Sentences;

public sealed class StsBenchmarkTests
{
    [Fact]
    public void ReadsSevenAndNineColumnRowsAndRefusesBadScores()
    {
        string path = System.IO.Path.GetTempFileName();
        try
        {
            File.WriteAllLines(path,
            [
                "main-captions\tMSRvid\t2012test\t0024\t2.500\tA girl is styling her hair.\tA girl is brushing her hair.",
                "main-forums\tanswer-answer\t2016\t0008\t3\t\"Quoted\" text. \tOther text.\tsource one\tsource two",
            ]);
            var pairs = StsBenchmark.Load(path);
            Assert.Equal(2, pairs.Count);
            Assert.Equal(new StsPair("A girl is styling her hair.", "A girl is brushing her hair.", 2.5), pairs[0]);
            Assert.Equal(new StsPair("\"Quoted\" text.", "Other text.", 3), pairs[1]);
            Assert.Single(StsBenchmark.Load(path, limit: 1));

            File.WriteAllText(path, "g\tf\ty\ti\t7\ta\tb\n");
            var e = Assert.Throws<FormatException>(() => StsBenchmark.Load(path));
            Assert.Contains(":1:", e.Message);
        }
        finally { File.Delete(path); }
    }

    [NeedsAssetsFact("text/sts-test.csv")]
    public void TheSharedTestSplitHas1379Pairs() => Assert.Equal(1379, StsBenchmark.Load(TaskAssets.Path("text", "sts-test.csv")).Count);
}
