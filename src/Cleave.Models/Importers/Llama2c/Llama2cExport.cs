using Cleave.Codecs.IO;
using Google.Protobuf;
using Onnx;

namespace Cleave.Models.Importers.Llama2c;

/// <summary>
/// ONNX exports of a llama2.c model with per-layer KV caches: the full model and, for split generation at layer k,
/// a head (embedding + layers &lt; k) and a tail (layers &gt;= k + final norm + classifier).
/// </summary>
/// <remarks>
/// The full model (model.onnx, the form every ONNX tool reads and Cleave's splitter cuts) takes
/// <c>past_key_{l}</c>/<c>past_value_{l}</c> [1, kv_heads, P, head_size] for its layers (P may be 0) and returns
/// <c>present_key_{l}</c>/<c>present_value_{l}</c> [1, kv_heads, P+T, head_size]; positions P..P+T-1 come from the past
/// length inside each graph. The split halves that a client and a server run step after step are written in the
/// fixed-capacity form by default (<see cref="Llama2cCacheForm.FixedCapacity"/>): caches of the whole context
/// (<c>seq_len</c> rows) are inputs, <c>position</c> [1] is the number of valid rows, and only the new rows
/// <c>new_key_{l}</c>/<c>new_value_{l}</c> [1, kv_heads, T, head_size] come out, so a step neither copies nor allocates
/// anything that grows with the position. The residual stream after layer l is the value <c>layer{l}_out</c> [1, T, dim]:
/// the head's only non-cache output and the tail's only non-cache input.
/// </remarks>
public static class Llama2cExport
{
    public const string ModelFile = "model.onnx";
    public const string InputIds = Llama2cGraphBuilder.InputIds;
    public const string Logits = Llama2cGraphBuilder.Logits;

    public static string HeadFile(int splitLayer) => $"head_{splitLayer}.onnx";
    public static string TailFile(int splitLayer) => $"tail_{splitLayer}.onnx";
    public static string TailBatchFile(int splitLayer) => $"tail_{splitLayer}_batch.onnx";
    public const string Positions = Llama2cGraphBuilder.Positions;
    public const string Position = Llama2cGraphBuilder.Position;
    public const string AttentionMask = Llama2cGraphBuilder.AttentionMask;
    public static string NewKey(int layer) => Llama2cGraphBuilder.NewKey(layer);
    public static string NewValue(int layer) => Llama2cGraphBuilder.NewValue(layer);
    public static string LayerOutput(int layer) => Llama2cGraphBuilder.LayerOutput(layer);
    public static string PastKey(int layer) => Llama2cGraphBuilder.PastKey(layer);
    public static string PastValue(int layer) => Llama2cGraphBuilder.PastValue(layer);
    public static string PresentKey(int layer) => Llama2cGraphBuilder.PresentKey(layer);
    public static string PresentValue(int layer) => Llama2cGraphBuilder.PresentValue(layer);

    /// <summary>input_ids [1,T] + caches of every layer -> logits [1,T,vocab] + presents (or the new rows, in the fixed-capacity form).</summary>
    public static ModelProto BuildFull(Llama2cCheckpoint model, Llama2cCacheForm form = Llama2cCacheForm.Growing)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Llama2cGraphBuilder.Build(model, 0, model.Config.Layers, embed: true, classify: true, "llama2c", form);
    }

    /// <summary>input_ids + caches of layers &lt; k -> layer{k-1}_out [1,T,dim] + the caches' new rows (or presents, in the growing form).</summary>
    public static ModelProto BuildHead(Llama2cCheckpoint model, int splitLayer, Llama2cCacheForm form = Llama2cCacheForm.FixedCapacity)
    {
        CheckSplit(model, splitLayer);
        return Llama2cGraphBuilder.Build(model, 0, splitLayer, embed: true, classify: false, $"llama2c_head_{splitLayer}", form);
    }

    /// <summary>layer{k-1}_out [1,T,dim] + caches of layers &gt;= k -> logits + the caches' new rows (or presents, in the growing form).</summary>
    public static ModelProto BuildTail(Llama2cCheckpoint model, int splitLayer, Llama2cCacheForm form = Llama2cCacheForm.FixedCapacity)
    {
        CheckSplit(model, splitLayer);
        return Llama2cGraphBuilder.Build(model, splitLayer, model.Config.Layers, embed: false, classify: true, $"llama2c_tail_{splitLayer}", form);
    }

    /// <summary>
    /// The tail for B sessions' single-token decode steps in one call: layer{k-1}_out [B,1,dim], positions [B], caches
    /// padded to the longest session [B,kv,Tmax,hs], attention_mask [B,Tmax+1] -> logits [B,1,vocab] + new_key/new_value rows.
    /// </summary>
    public static ModelProto BuildTailBatch(Llama2cCheckpoint model, int splitLayer)
    {
        CheckSplit(model, splitLayer);
        return Llama2cGraphBuilder.BuildBatchedDecode(model, splitLayer, $"llama2c_tail_{splitLayer}_batch");
    }

    /// <summary>Writes head_k.onnx, tail_k.onnx and tail_k_batch.onnx into <paramref name="directory"/> (atomically) and returns their paths.</summary>
    public static (string HeadPath, string TailPath) WriteSplit(Llama2cCheckpoint model, int splitLayer, string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        string head = Path.Combine(directory, HeadFile(splitLayer));
        string tail = Path.Combine(directory, TailFile(splitLayer));
        Write(BuildHead(model, splitLayer), head);
        Write(BuildTail(model, splitLayer), tail);
        Write(BuildTailBatch(model, splitLayer), Path.Combine(directory, TailBatchFile(splitLayer)));
        return (Path.GetFullPath(head), Path.GetFullPath(tail));
    }

    /// <summary>Writes a model atomically: on failure nothing is left at <paramref name="path"/>.</summary>
    public static void Write(ModelProto model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        AtomicFile.Write(path, stream => model.WriteTo(stream));
    }

    private static void CheckSplit(Llama2cCheckpoint model, int splitLayer)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (splitLayer < 1 || splitLayer >= model.Config.Layers)
            throw new ArgumentOutOfRangeException(nameof(splitLayer), splitLayer,
                $"a split layer must be in 1..{model.Config.Layers - 1}: both halves need at least one layer (and its cache)");
    }
}
