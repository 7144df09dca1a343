using Cleave.Models.Importers.Llama2c;
using Cleave.Models.Text;
using Google.Protobuf;

namespace Cleave.Models.Tests.Llama2c;

/// <summary>The exported graphs against a port of run.c, on random small checkpoints (no assets needed).</summary>
public sealed class Llama2cGraphTests
{
    private static readonly int[] Tokens = [1, 17, 250, 3, 99, 42, 7, 130, 5];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Full_model_matches_run_c_in_prefill_and_decode(bool sharedClassifier)
    {
        var model = Llama2cCheckpoint.Parse(SyntheticCheckpoint.Create(SyntheticCheckpoint.Small(sharedClassifier), seed: 5));
        var reference = new RunCReference(model);
        var expected = new float[Tokens.Length][];
        for (int pos = 0; pos < Tokens.Length; pos++) expected[pos] = reference.Forward(Tokens[pos], pos);

        using var session = new LlamaSession(Llama2cExport.BuildFull(model).ToByteArray());
        int vocab = session.VocabSize;
        Assert.Equal(model.Config.VocabSize, vocab);
        float[] prefill = session.Prefill(Tokens.AsSpan(0, 6));
        for (int pos = 0; pos < 6; pos++) AssertClose(expected[pos], prefill.AsSpan(pos * vocab, vocab), 1e-4f, $"prefill position {pos}");
        for (int pos = 6; pos < Tokens.Length; pos++) AssertClose(expected[pos], session.Step(Tokens[pos]), 1e-4f, $"decode position {pos}");
        Assert.Equal(Tokens.Length, session.Position);
    }

    [Fact]
    public void Split_halves_equal_the_full_model_at_every_layer()
    {
        var model = Llama2cCheckpoint.Parse(SyntheticCheckpoint.Create(SyntheticCheckpoint.Small(), seed: 9));
        using var full = new KvCacheSession(Llama2cExport.BuildFull(model).ToByteArray());
        var expectedPrefill = full.Run(Tokens.AsSpan(0, 5));
        var expectedSteps = new float[4][];
        for (int i = 0; i < 4; i++) expectedSteps[i] = full.Run(Tokens.AsSpan(5 + i, 1));

        for (int k = 1; k < model.Config.Layers; k++)
        {
            using var head = new KvCacheSession(Llama2cExport.BuildHead(model, k).ToByteArray());
            using var tail = new KvCacheSession(Llama2cExport.BuildTail(model, k).ToByteArray());
            Assert.Equal(Llama2cExport.LayerOutput(k - 1), head.OutputName);
            Assert.Equal(Llama2cExport.LayerOutput(k - 1), tail.InputName);
            Assert.Equal(k, head.CacheLayers);
            Assert.Equal(model.Config.Layers - k, tail.CacheLayers);
            AssertClose(expectedPrefill, tail.Run(head.Run(Tokens.AsSpan(0, 5))), 1e-5f, $"k={k} prefill");
            for (int i = 0; i < 4; i++)
                AssertClose(expectedSteps[i], tail.Run(head.Run(Tokens.AsSpan(5 + i, 1))), 1e-5f, $"k={k} step {i}");
            Assert.Equal(Tokens.Length, tail.PastLength);
        }
    }

    [Fact]
    public void Every_layer_output_is_a_named_value_and_caches_are_inputs_and_outputs()
    {
        var model = Llama2cCheckpoint.Parse(SyntheticCheckpoint.Create(SyntheticCheckpoint.Small(), seed: 1));
        var graph = Llama2cExport.BuildFull(model).Graph;
        var produced = graph.Node.SelectMany(n => n.Output).ToHashSet();
        for (int l = 0; l < model.Config.Layers; l++)
        {
            Assert.Contains(Llama2cExport.LayerOutput(l), produced);
            Assert.Contains(graph.Input, i => i.Name == Llama2cExport.PastKey(l));
            Assert.Contains(graph.Input, i => i.Name == Llama2cExport.PastValue(l));
            Assert.Contains(graph.Output, o => o.Name == Llama2cExport.PresentKey(l));
            Assert.Contains(graph.Output, o => o.Name == Llama2cExport.PresentValue(l));
        }
        Assert.Equal(Llama2cExport.InputIds, graph.Input[0].Name);
        Assert.Equal(Llama2cExport.Logits, graph.Output[0].Name);
    }

    [Fact]
    public void Every_residual_stream_tensor_is_a_single_tensor_cut_of_the_full_graph()
    {
        var model = Llama2cCheckpoint.Parse(SyntheticCheckpoint.Create(SyntheticCheckpoint.Small(), seed: 1));
        var graph = Llama2cExport.BuildFull(model).Graph;
        var producers = new Dictionary<string, global::Onnx.NodeProto>();
        foreach (var node in graph.Node)
            foreach (string o in node.Output) producers[o] = node;
        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet();

        // Graph inputs reached walking back from `from`, stopping at `cut` (and at initializers, which either side may copy).
        HashSet<string> InputsNeeded(IEnumerable<string> from, string? cut)
        {
            var needed = new HashSet<string>();
            var seen = new HashSet<string>();
            var pending = new Stack<string>(from);
            while (pending.Count > 0)
            {
                string name = pending.Pop();
                if (name == cut || initializers.Contains(name) || !seen.Add(name)) continue;
                if (producers.TryGetValue(name, out var node))
                    foreach (string i in node.Input) pending.Push(i);
                else
                    needed.Add(name);
            }
            return needed;
        }

        int layers = model.Config.Layers;
        for (int k = 1; k < layers; k++)
        {
            string cut = Llama2cExport.LayerOutput(k - 1);
            var tailOutputs = new List<string> { Llama2cExport.Logits };
            var headOutputs = new List<string> { cut };
            var tailInputs = new HashSet<string>();
            var headInputs = new HashSet<string> { Llama2cExport.InputIds };
            for (int l = 0; l < layers; l++)
            {
                (l >= k ? tailOutputs : headOutputs).AddRange([Llama2cExport.PresentKey(l), Llama2cExport.PresentValue(l)]);
                (l >= k ? tailInputs : headInputs).UnionWith([Llama2cExport.PastKey(l), Llama2cExport.PastValue(l)]);
            }
            Assert.Equal(tailInputs.Order(), InputsNeeded(tailOutputs, cut).Order());
            Assert.Equal(headInputs.Order(), InputsNeeded(headOutputs, null).Order());
        }
    }

    [Fact]
    public void Session_stays_inside_the_vocabulary_and_the_trained_positions()
    {
        var model = Llama2cCheckpoint.Parse(SyntheticCheckpoint.Create(SyntheticCheckpoint.Small(), seed: 3));
        using var session = new LlamaSession(Llama2cExport.BuildFull(model).ToByteArray(), maxSequence: 8);
        Assert.Empty(session.GenerateGreedy([1], 0));
        int[] generated = session.GenerateGreedy([1, 5, 6], 100, stopToken: -1);
        // Like run.c: 8 positions are fed (3 prompt + 5 generated), and the token predicted at the last one is kept too.
        Assert.Equal(6, generated.Length);
        Assert.Equal(8, session.Position);
        Assert.Throws<ArgumentException>(() => session.Step(1));
        session.Reset();
        Assert.Equal(0, session.Position);
        Assert.Throws<ArgumentOutOfRangeException>(() => session.Prefill([1, model.Config.VocabSize]));
        Assert.Throws<ArgumentOutOfRangeException>(() => session.Prefill([-1]));
        Assert.Equal(0, session.Position);
        Assert.Equal(model.Config.VocabSize, session.Step(1).Length);
    }

    [Fact]
    public void Split_layer_must_leave_a_layer_on_each_side()
    {
        var model = Llama2cCheckpoint.Parse(SyntheticCheckpoint.Create(SyntheticCheckpoint.Small(), seed: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Llama2cExport.BuildHead(model, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Llama2cExport.BuildTail(model, model.Config.Layers));
    }

    [Fact]
    public void Checkpoint_of_the_wrong_size_or_with_an_impossible_header_is_refused()
    {
        byte[] good = SyntheticCheckpoint.Create(SyntheticCheckpoint.Small(), seed: 2);
        var truncated = Assert.Throws<Llama2cFormatException>(() => Llama2cCheckpoint.Parse(good.AsSpan(0, good.Length - 4)));
        Assert.Contains("implies", truncated.Message);
        Assert.Throws<Llama2cFormatException>(() => Llama2cCheckpoint.Parse(good.AsSpan(0, 20)));
        Assert.Throws<Llama2cFormatException>(() => Llama2cCheckpoint.Parse([.. good, 0, 0, 0, 0]));

        byte[] badHeads = (byte[])good.Clone();
        badHeads[3 * 4] = 3; // n_heads 3 does not divide dim 16
        var e = Assert.Throws<Llama2cFormatException>(() => Llama2cCheckpoint.Parse(badHeads));
        Assert.Contains("n_heads", e.Message);

        byte[] notFinite = (byte[])good.Clone();
        BitConverter.TryWriteBytes(notFinite.AsSpan(Llama2cConfig.HeaderBytes + 40), float.NaN);
        Assert.Throws<Llama2cFormatException>(() => Llama2cCheckpoint.Parse(notFinite));
    }

    internal static float AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float worst = 0;
        int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            float diff = MathF.Abs(expected[i] - actual[i]);
            if (!(diff <= worst)) { worst = diff; at = i; }
        }
        Assert.True(worst <= tolerance, $"{what}: largest difference {worst} at {at} (expected {(at >= 0 ? expected[at] : 0)}, got {(at >= 0 ? actual[at] : 0)})");
        return worst;
    }
}
