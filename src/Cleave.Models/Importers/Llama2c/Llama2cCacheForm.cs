namespace Cleave.Models.Importers.Llama2c;

/// <summary>How an exported llama2.c graph holds its KV caches (docs/llm.md).</summary>
public enum Llama2cCacheForm
{
    /// <summary>past_* [1,kv,P,hs] in, present_* = Concat(past, new) [1,kv,P+T,hs] out: each step copies the whole cache inside ONNX Runtime.</summary>
    Growing,

    /// <summary>
    /// Caches of the model's whole context (past_key_*/past_value_* [1,kv,C,hs]) in and, as the same buffers, out
    /// (present_key_*/present_value_*), <c>position</c> [1] in: GroupQueryAttention (com.microsoft) writes the new rows
    /// at the position in place and attends over the valid rows only.
    /// </summary>
    FixedCapacity,

    /// <summary>B sequences' single-token steps: padded caches, positions and a mask in, new rows [B,kv,1,hs] out.</summary>
    Batched,
}
