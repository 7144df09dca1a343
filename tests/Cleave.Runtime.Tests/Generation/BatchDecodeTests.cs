using Cleave.Codecs;
using Cleave.Models.Importers.Llama2c;
using Cleave.Models.Text;
using Cleave.Runtime.Generation;

namespace Cleave.Runtime.Tests.Generation;

public sealed class BatchDecodeTests
{
    private static readonly string[] Texts = ["", "Tim", "The sun was hot", "Lily had a red ball and a big dog", "Once upon a time",
        "A cat", "Tom and Sue went to the park to play", "The bird sang"];

    private static int[] Prompt(string text) => StoriesModel.Model.Tokenizer.Encode(text, bos: true);

    private static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    [StoriesFact]
    public void Batched_decode_steps_equal_single_session_steps_with_different_cache_lengths()
    {
        const int k = 2, steps = 12;
        string dir = StoriesModel.Model.Directory;
        int vocab = StoriesModel.Model.Config.VocabSize, width = StoriesModel.Model.Config.Dim;
        using var head = StoriesModel.Head(k);
        using var tail = new KvCacheModel(Path.Combine(dir, Llama2cExport.TailFile(k)));
        using var batched = new KvCacheBatchDecoder(Path.Combine(dir, Llama2cExport.TailBatchFile(k)), tail);
        var heads = Texts.Select(_ => new KvCacheSession(head)).ToArray();
        var singles = Texts.Select(_ => new KvCacheSession(tail)).ToArray();
        var rows = Texts.Select(_ => new KvCacheSession(tail)).ToArray();
        try
        {
            var next = new int[Texts.Length];
            for (int s = 0; s < Texts.Length; s++)
            {
                float[] prefill = heads[s].Run(Prompt(Texts[s]));
                float[] logits = singles[s].Run(prefill);
                rows[s].Run(prefill);
                next[s] = ArgMax(logits.AsSpan(logits.Length - vocab));
            }
            Assert.True(rows.Select(r => r.PastLength).Distinct().Count() >= 6, "the caches have different lengths");
            double worst = 0;
            for (int step = 0; step < steps; step++)
            {
                var hidden = new float[Texts.Length * width];
                for (int s = 0; s < Texts.Length; s++) heads[s].Run([next[s]]).CopyTo(hidden, s * width);
                float[] batch = batched.Decode(hidden, rows);
                // Each session's cache took only its new row; the padded batch was gathered from the rows each one holds.
                Assert.All(rows, r => Assert.Equal(tail.CacheBytesPerToken, r.LastRunCopiedBytes));
                Assert.Equal(rows.Sum(r => (long)(r.PastLength - 1)) * tail.CacheBytesPerToken, batched.LastDecodeGatheredBytes);
                for (int s = 0; s < Texts.Length; s++)
                {
                    float[] single = singles[s].Run(hidden.AsSpan(s * width, width));
                    for (int i = 0; i < vocab; i++) worst = Math.Max(worst, Math.Abs(single[i] - batch[s * vocab + i]));
                    Assert.Equal(ArgMax(single), ArgMax(batch.AsSpan(s * vocab, vocab)));
                    Assert.Equal(singles[s].PastLength, rows[s].PastLength);
                    next[s] = ArgMax(single);
                }
            }
            Assert.True(worst < 1e-4, $"largest logit difference {worst:G3}");
            // The appended rows are the single path's cache: a single step after batched ones still agrees.
            float[] again = heads[3].Run([next[3]]);
            float[] fromBatched = rows[3].Run(again), fromSingle = singles[3].Run(again);
            for (int i = 0; i < vocab; i++) Assert.True(Math.Abs(fromBatched[i] - fromSingle[i]) < 1e-4, $"logit {i} after batched steps");
        }
        finally
        {
            foreach (var session in heads.Concat(singles).Concat(rows)) session.Dispose();
        }
    }

    [StoriesFact]
    public async Task Batched_server_generates_exactly_the_local_greedy_text_for_concurrent_sessions()
    {
        var prompts = Texts.Select(Prompt).ToArray();
        var expected = prompts.Select(p => StoriesModel.LocalGreedy(p, 32)).ToArray();
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(2) with { BatchDecode = true, Workers = 1 });
        using var client = new GenerationClient(server.Address);
        using var head = StoriesModel.Head(2);
        var raw = TokenStreamCodec.ForSender("raw", StoriesModel.Model.Config.Dim, () => throw new InvalidOperationException("raw needs no calibration"));

        var outcome = await GenerationLoad.RunAsync(16, i =>
            new SplitGenerator(head, StoriesModel.Model.Config, 2, raw, client).GenerateAsync(prompts[i % prompts.Length], 32), concurrent: true);

        for (int i = 0; i < 16; i++) Assert.Equal(expected[i % prompts.Length], outcome.Sessions[i].GeneratedTokens);
        Assert.True(server.Engine.PeakDecodeBatch >= 2, "decode steps of different sessions ran in one batch");
        Assert.Equal(0, server.Engine.OpenSessions);
        Assert.Equal(0, server.Engine.ReservedCacheBytes);
    }

    [StoriesFact]
    public void Batched_decoding_is_the_default_where_the_batch_graph_exists_and_required_when_asked_for()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"cleave-no-batch-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            foreach (string file in Directory.GetFiles(StoriesModel.Model.Directory))
                if (!file.EndsWith("_batch.onnx", StringComparison.Ordinal)) File.Copy(file, Path.Combine(dir, Path.GetFileName(file)), overwrite: true);
            var e = Assert.Throws<FileNotFoundException>(() => new GenerationEngine(new GenerationOptions { ModelDirectory = dir, SplitLayer = 2, BatchDecode = true }));
            Assert.Contains("tail_2_batch.onnx", e.Message, StringComparison.Ordinal);
            using (var auto = new GenerationEngine(new GenerationOptions { ModelDirectory = dir, SplitLayer = 2 }))
                Assert.False(auto.BatchesDecodeSteps, "an old folder without the batch graph runs one call per step");
            // A folder imported before the fixed-capacity halves (growing-form tail beside a batch graph) runs one call per step.
            File.Copy(Path.Combine(StoriesModel.Model.Directory, Llama2cExport.TailBatchFile(2)), Path.Combine(dir, Llama2cExport.TailBatchFile(2)));
            var checkpoint = Llama2cCheckpoint.Load(Path.Combine(StoriesModel.AssetRoot!, "llm", "stories260K.bin"));
            Llama2cExport.Write(Llama2cExport.BuildTail(checkpoint, 2, Llama2cCacheForm.Growing), Path.Combine(dir, Llama2cExport.TailFile(2)));
            using (var old = new GenerationEngine(new GenerationOptions { ModelDirectory = dir, SplitLayer = 2 }))
                Assert.False(old.BatchesDecodeSteps, "growing-form caches are not batched");
            Assert.Throws<ArgumentException>(() => new GenerationEngine(new GenerationOptions { ModelDirectory = dir, SplitLayer = 2, BatchDecode = true }));
            using (var off = new GenerationEngine(StoriesModel.Options(2) with { BatchDecode = false }))
                Assert.False(off.BatchesDecodeSteps);
            using var batched = new GenerationEngine(StoriesModel.Options(2));
            Assert.True(batched.BatchesDecodeSteps);
            Assert.Throws<ArgumentOutOfRangeException>(() => new GenerationEngine(StoriesModel.Options(2) with { MaxDecodeBatch = 0 }));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
