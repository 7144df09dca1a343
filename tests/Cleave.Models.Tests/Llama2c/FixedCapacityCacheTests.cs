using Cleave.Models.Importers.Llama2c;
using Cleave.Models.Text;
using Google.Protobuf;

namespace Cleave.Models.Tests.Llama2c;

/// <summary>
/// The fixed-capacity split halves (caches of the whole context, only new rows written, only valid rows read): the same
/// tokens as the growing form that every step used to copy, a per-step copy that does not depend on the position, stale
/// rows ignored after a reset.
/// </summary>
public sealed class FixedCapacityCacheTests
{
    private static readonly int[] Tokens = [1, 17, 250, 3, 99, 42, 7, 130, 5];

    [AssetFact(Stories260K.Checkpoint)]
    public void Fixed_capacity_split_generates_token_for_token_what_the_growing_form_did_to_position_420()
    {
        using var folder = new TempFolder();
        var (headPath, tailPath) = Llama2cExport.WriteSplit(Stories260K.Model, 2, folder.Path);
        using (var head = new KvCacheSession(headPath))
            Assert.True(head.Model.HasFixedCapacity);
        string growingHead = Path.Combine(folder.Path, "growing_head.onnx"), growingTail = Path.Combine(folder.Path, "growing_tail.onnx");
        Llama2cExport.Write(Llama2cExport.BuildHead(Stories260K.Model, 2, Llama2cCacheForm.Growing), growingHead);
        Llama2cExport.Write(Llama2cExport.BuildTail(Stories260K.Model, 2, Llama2cCacheForm.Growing), growingTail);

        using var before = LlamaSession.Split(growingHead, growingTail, 512);
        using var after = LlamaSession.Split(headPath, tailPath, 512);
        // No stop at BOS, so that the generation runs past position 400 (the model tells several stories).
        int[] expected = before.GenerateGreedy([Llama2cTokenizer.Bos], 420, stopToken: -1);
        Assert.Equal(420, expected.Length);
        Assert.Equal(expected, after.GenerateGreedy([Llama2cTokenizer.Bos], 420, stopToken: -1));
    }

    [AssetFact(Stories260K.Checkpoint)]
    public void Copied_bytes_per_step_do_not_depend_on_the_position()
    {
        var model = Stories260K.Model;
        using var growingHead = new KvCacheSession(Llama2cExport.BuildHead(model, 2, Llama2cCacheForm.Growing).ToByteArray());
        using var head = new KvCacheSession(Llama2cExport.BuildHead(model, 2).ToByteArray());
        using var tail = new KvCacheSession(Llama2cExport.BuildTail(model, 2).ToByteArray());
        Assert.Equal(model.Config.SeqLen, head.Capacity);
        var headBytes = new Dictionary<int, long>();
        var tailBytes = new Dictionary<int, long>();
        var growingBytes = new Dictionary<int, long>();
        int token = Llama2cTokenizer.Bos;
        for (int position = 0; position <= 400; position++)
        {
            growingHead.Run([token]);
            float[] logits = tail.Run(head.Run([token]));
            (headBytes[position], tailBytes[position], growingBytes[position]) = (head.LastRunCopiedBytes, tail.LastRunCopiedBytes, growingHead.LastRunCopiedBytes);
            token = TextScore.ArgMax(logits);
        }
        // One token in, its new rows, its output out: nothing else, at every position.
        long headStep = sizeof(long) + head.Model.CacheBytesPerToken + model.Config.Dim * sizeof(float);
        long tailStep = model.Config.Dim * sizeof(float) + tail.Model.CacheBytesPerToken + model.Config.VocabSize * sizeof(float);
        foreach (int position in new[] { 0, 20, 200, 400 })
        {
            Assert.Equal(headStep, headBytes[position]);
            Assert.Equal(tailStep, tailBytes[position]);
        }
        // The growing form copies its whole cache into the presents on every step.
        Assert.Equal(380 * head.Model.CacheBytesPerToken, growingBytes[400] - growingBytes[20]);
    }

    [Fact]
    public void A_reset_cache_ignores_the_rows_of_the_earlier_sequence()
    {
        var model = Llama2cCheckpoint.Parse(SyntheticCheckpoint.Create(SyntheticCheckpoint.Small(), seed: 11));
        byte[] tail = Llama2cExport.BuildTail(model, 1).ToByteArray();
        byte[] head = Llama2cExport.BuildHead(model, 1).ToByteArray();
        using var headSession = new KvCacheSession(head);
        float[] hidden = headSession.Run(Tokens);

        using var fresh = new KvCacheSession(tail);
        float[] expected = fresh.Run(hidden.AsSpan(0, 3 * model.Config.Dim));
        using var reused = new KvCacheSession(tail);
        reused.Run(hidden); // 9 rows of another sequence stay in the buffers
        reused.Reset();
        Assert.Equal(0, reused.PastLength);
        Assert.Equal(expected, reused.Run(hidden.AsSpan(0, 3 * model.Config.Dim)));
    }

    [Fact]
    public void Head_sizes_that_GroupQueryAttention_rejects_get_growing_halves_from_WriteSplit()
    {
        var model = Llama2cCheckpoint.Parse(SyntheticCheckpoint.Create(SyntheticCheckpoint.Small() with { Dim = 16 }, seed: 13)); // head size 4
        Assert.Throws<ArgumentException>(() => Llama2cExport.BuildHead(model, 1));
        using var folder = new TempFolder();
        var (headPath, tailPath) = Llama2cExport.WriteSplit(model, 1, folder.Path);
        using var head = new KvCacheSession(headPath);
        using var tail = new KvCacheSession(tailPath);
        Assert.False(head.Model.HasFixedCapacity);
        Assert.False(tail.Model.HasFixedCapacity);
        Assert.Equal(Tokens.Length * model.Config.VocabSize, tail.Run(head.Run(Tokens)).Length);
    }

    [Theory]
    [InlineData(8)]  // the scores path (GEMM per head, scale folded into the query weights)
    [InlineData(48)] // ONNX Runtime's flash kernel
    public void Both_GroupQueryAttention_paths_compute_what_the_growing_form_computes(int headSize)
    {
        var config = SyntheticCheckpoint.Small() with { Dim = 4 * headSize, HiddenDim = 2 * headSize };
        var model = Llama2cCheckpoint.Parse(SyntheticCheckpoint.Create(config, seed: 14));
        var headGraph = Llama2cExport.BuildHead(model, 1);
        var attention = headGraph.Graph.Node.Where(n => n.OpType == "GroupQueryAttention").ToArray();
        Assert.Single(attention);
        bool scoresPath = headSize <= 32;
        Assert.Equal(scoresPath, attention[0].Attribute.Any(a => a.Name == "qk_output" && a.I == 2));
        Assert.Equal(scoresPath ? 4 : 3, attention[0].Output.Count);
        Assert.Equal(scoresPath ? 1f : 1f / MathF.Sqrt(headSize), attention[0].Attribute.Single(a => a.Name == "scale").F);

        using var full = new KvCacheSession(Llama2cExport.BuildFull(model).ToByteArray());
        using var head = new KvCacheSession(headGraph.ToByteArray());
        using var tail = new KvCacheSession(Llama2cExport.BuildTail(model, 1).ToByteArray());
        const int Prompt = 4;
        Llama2cGraphTests.AssertClose(full.Run(Tokens.AsSpan(0, Prompt)), tail.Run(head.Run(Tokens.AsSpan(0, Prompt))), 1e-4f, "prefill");
        for (int i = Prompt; i < Tokens.Length; i++)
            Llama2cGraphTests.AssertClose(full.Run(Tokens.AsSpan(i, 1)), tail.Run(head.Run(Tokens.AsSpan(i, 1))), 1e-4f, $"step at position {i}");
    }

    [Fact]
    public void A_prefill_in_one_call_equals_token_by_token_steps_and_the_capacity_is_a_hard_limit()
    {
        var model = Llama2cCheckpoint.Parse(SyntheticCheckpoint.Create(SyntheticCheckpoint.Small(), seed: 12));
        byte[] full = Llama2cExport.BuildFull(model, Llama2cCacheForm.FixedCapacity).ToByteArray();
        using var oneCall = new KvCacheSession(full);
        using var steps = new KvCacheSession(full);
        float[] prefill = oneCall.Run(Tokens);
        int vocab = model.Config.VocabSize;
        for (int i = 0; i < Tokens.Length; i++)
            Llama2cGraphTests.AssertClose(prefill.AsSpan(i * vocab, vocab), steps.Run(Tokens.AsSpan(i, 1)), 1e-5f, $"position {i}");

        int capacity = model.Config.SeqLen;
        Assert.Equal(capacity, oneCall.Capacity);
        oneCall.Run(new int[capacity - Tokens.Length]);
        Assert.Equal(capacity, oneCall.PastLength);
        Assert.Throws<ArgumentException>(() => oneCall.Run([1]));
        Assert.Equal(capacity, oneCall.PastLength);
        Assert.Throws<ArgumentException>(() => steps.Run(new int[capacity]));
        Assert.Equal(Tokens.Length, steps.PastLength);
    }
}
