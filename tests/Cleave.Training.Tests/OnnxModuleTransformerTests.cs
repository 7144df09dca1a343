using Cleave.Models.Onnx;
using Cleave.Models.Profiling;
using Cleave.Models.Tests;
using Cleave.Training.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Cleave.Training.Tests;

/// <summary>OnnxModule runs the MiniLM transformer path (Gather, MatMul, Softmax, LayerNorm via ReduceMean, Erf-GELU, masks).</summary>
public sealed class OnnxModuleTransformerTests
{
    [MiniLmFact]
    public void All_MiniLM_L6_v2_matches_ONNX_Runtime_with_a_padded_batch()
    {
        TorchRuntime.Initialise();
        var model = OnnxModel.FromBytes(MiniLmAsset.ModelBytes, "all-MiniLM-L6-v2");
        const int batch = 2, sequence = 12;
        var random = new Random(5);
        long[] ids = [.. Enumerable.Range(0, batch * sequence).Select(i => i % sequence == 0 ? 101L : random.NextInt64(1000, 30000))];
        long[] mask = [.. Enumerable.Range(0, batch * sequence).Select(i => i >= sequence + 8 ? 0L : 1L)]; // second row: 4 padding tokens
        long[] types = new long[batch * sequence];
        long[] shape = [batch, sequence];
        var feeds = new Dictionary<string, HostTensor>
        {
            ["input_ids"] = new(OnnxElementType.Int64, shape, ids),
            ["attention_mask"] = new(OnnxElementType.Int64, shape, mask),
            ["token_type_ids"] = new(OnnxElementType.Int64, shape, types),
        };
        string output = model.Graph.Outputs[0];
        Dictionary<string, HostTensor> expected;
        using (var runner = new OrtModelRunner(model.ToBytes(), intraOpThreads: 2)) expected = runner.Run(feeds, [output]);

        using var module = new OnnxModule(model);
        using var _ = no_grad();
        var inputs = new Dictionary<string, Tensor>
        {
            ["input_ids"] = tensor(ids).reshape(shape),
            ["attention_mask"] = tensor(mask).reshape(shape),
            ["token_type_ids"] = tensor(types).reshape(shape),
        };
        var actual = module.Run(inputs.Where(kv => module.InputNames.Contains(kv.Key)).ToDictionary(), [output]);
        Assert.True(ParityModels.MaxRelativeDifference(actual[output], expected[output]) <= 1e-4);
        foreach (var t in inputs.Values.Concat(actual.Values)) t.Dispose();
    }
}
