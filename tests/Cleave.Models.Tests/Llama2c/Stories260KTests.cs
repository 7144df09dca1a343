using Cleave.Models.Importers.Llama2c;
using Cleave.Models.Text;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace Cleave.Models.Tests.Llama2c;

/// <summary>The imported stories260K against llama2.c's documented behaviour and the reference conversion.</summary>
public sealed class Stories260KTests(ITestOutputHelper output)
{
    [AssetFact(Stories260K.Checkpoint, Stories260K.Tokenizer)]
    public void Header_is_read_as_documented()
    {
        var c = Stories260K.Model.Config;
        Assert.Equal(new Llama2cConfig(64, 172, 5, 8, 4, 512, 512, SharedClassifier: true), c);
        Assert.Equal(8, c.HeadSize);
    }

    [AssetFact(Stories260K.Checkpoint, Stories260K.Tokenizer)]
    public void Greedy_generation_from_bos_reproduces_the_documented_sample()
    {
        using var session = Stories260K.OpenSession();
        int[] generated = session.GenerateGreedy([Llama2cTokenizer.Bos], 60);
        string text = Stories260K.Tok.Decode(generated);
        output.WriteLine(text);
        Assert.Equal(60, generated.Length);
        Assert.StartsWith(Stories260K.DocumentedSample, text, StringComparison.Ordinal);
        Assert.True(Stories260K.Tok.Encode(Stories260K.DocumentedSample).Length > 30, "the checked prefix should cover at least 30 tokens");
    }

    [AssetFact(Stories260K.Checkpoint, Stories260K.Tokenizer)]
    public void Kv_cache_decoding_gives_the_same_tokens_as_full_recomputation()
    {
        using var session = Stories260K.OpenSession();
        int[] prompt = Stories260K.Tok.Encode("One day, a little boy named Tim", bos: true);
        int[] cached = session.GenerateGreedy(prompt, 30, stopToken: -1);

        var sequence = new List<int>(prompt);
        int vocab = session.VocabSize;
        for (int i = 0; i < 30; i++)
        {
            session.Reset();
            float[] logits = session.Prefill(sequence.ToArray());
            sequence.Add(TextScore.ArgMax(logits.AsSpan(logits.Length - vocab)));
        }
        Assert.Equal(sequence.Skip(prompt.Length), cached);
    }

    [AssetFact(Stories260K.Checkpoint, Stories260K.Tokenizer, Stories260K.Sample)]
    public void Teacher_forced_perplexity_on_the_sample_is_within_one_percent_of_3_68()
    {
        using var session = Stories260K.OpenSession();
        var documents = TextDocuments.Split(File.ReadAllText(TestAssets.Path(Stories260K.Sample)));
        Assert.Equal(5, documents.Count);
        var score = new TextScore();
        foreach (string document in documents) score += session.Score(Stories260K.Tok.Encode(document, bos: true));
        output.WriteLine($"{score.Predictions} predictions: mean NLL {score.MeanNll:F4}, perplexity {score.Perplexity:F4}, top-1 {score.Top1:P2}");
        Assert.InRange(score.Perplexity, 3.68 * 0.99, 3.68 * 1.01);
        Assert.InRange(score.Top1, 0.63, 0.67);
    }

    [AssetFact(Stories260K.Checkpoint, Stories260K.ReferenceOnnx)]
    public void Logits_agree_with_the_reference_conversion()
    {
        using var reference = new InferenceSession(TestAssets.Path(Stories260K.ReferenceOnnx));
        using var session = Stories260K.OpenSession();
        foreach (string prompt in new[] { "Once upon a time", "Lily saw a big red ball and ran to the park with her mom.", "x" })
        {
            int[] tokens = Stories260K.Tok.Encode(prompt, bos: true);
            var ids = tokens.Select(t => (long)t).ToArray();
            using var input = OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]);
            using var runOptions = new RunOptions();
            using var outputs = reference.Run(runOptions, ["input_ids"], [input], ["logits"]);
            session.Reset();
            float worst = Llama2cGraphTests.AssertClose(outputs[0].GetTensorDataAsSpan<float>(), session.Prefill(tokens), 1e-4f, prompt);
            output.WriteLine($"{tokens.Length} tokens, largest logit difference {worst:E2}: {prompt}");
        }
    }

    [AssetFact(Stories260K.Checkpoint, Stories260K.Tokenizer)]
    public void Split_session_generates_like_the_full_model_even_through_a_float16_cut()
    {
        using var folder = new TempFolder();
        var (headPath, tailPath) = Llama2cExport.WriteSplit(Stories260K.Model, 2, folder.Path);
        using var full = Stories260K.OpenSession();
        int[] expected = full.GenerateGreedy([Llama2cTokenizer.Bos], 40);

        using (var split = LlamaSession.Split(headPath, tailPath, 512))
        {
            Assert.True(split.IsSplit);
            Assert.Equal(expected, split.GenerateGreedy([Llama2cTokenizer.Bos], 40));
        }

        int crossings = 0;
        float[] ToHalf(float[] hidden)
        {
            crossings++;
            var rounded = new float[hidden.Length];
            for (int i = 0; i < hidden.Length; i++) rounded[i] = (float)(Half)hidden[i];
            return rounded;
        }
        using var half = LlamaSession.Split(headPath, tailPath, 512, ToHalf);
        int[] generated = half.GenerateGreedy([Llama2cTokenizer.Bos], 40);
        Assert.Equal(40, crossings); // the prefill and 39 steps each send one hidden state
        Assert.StartsWith(Stories260K.DocumentedSample[..50], Stories260K.Tok.Decode(generated), StringComparison.Ordinal);
    }

    [AssetFact(Stories260K.Checkpoint)]
    public void Split_halves_equal_the_full_model_for_prefill_and_decode_at_every_layer()
    {
        var model = Stories260K.Model;
        using var full = new KvCacheSession(Stories260K.OnnxBytes);
        int[] prompt = [1, 403, 407, 261, 378, 11];
        int[] steps = [300, 60, 271];
        float[] expectedPrefill = full.Run(prompt);
        var expectedSteps = steps.Select(t => full.Run([t])).ToArray();

        using var folder = new TempFolder();
        for (int k = 1; k < model.Config.Layers; k++)
        {
            var (headPath, tailPath) = Llama2cExport.WriteSplit(model, k, folder.Path);
            using var head = new KvCacheSession(headPath);
            using var tail = new KvCacheSession(tailPath);
            // The halves attend with GroupQueryAttention, model.onnx with MatMul/Softmax: the same sums in another
            // order, a few float32 ulps apart on logits of magnitude ~10.
            Llama2cGraphTests.AssertClose(expectedPrefill, tail.Run(head.Run(prompt)), 5e-5f, $"k={k} prefill");
            for (int i = 0; i < steps.Length; i++)
                Llama2cGraphTests.AssertClose(expectedSteps[i], tail.Run(head.Run([steps[i]])), 5e-5f, $"k={k} step {i}");
        }
    }
}

/// <summary>A fresh temporary folder per test, removed afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("cleave-llama-").FullName;
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}
