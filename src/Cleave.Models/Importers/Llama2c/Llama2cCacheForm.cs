namespace Cleave.Models.Importers.Llama2c;

/// <summary>How an exported llama2.c graph holds its KV caches (docs/llm.md).</summary>
public enum Llama2cCacheForm
{
    /// <summary>past_* [1,kv,P,hs] in, present_* = Concat(past, new) [1,kv,P+T,hs] out: each step copies the whole cache inside ONNX Runtime.</summary>
    Growing,

    /// <summary>
    /// Caches of the model's whole context in (past_key_* [1,kv,hs,C], transposed; past_value_* [1,kv,C,hs]) and only read,
    /// <c>position</c> [1] in (rows at and after it are masked), the new rows new_key_*/new_value_* [1,kv,T,hs] out.
    /// </summary>
    FixedCapacity,

    /// <summary>B sequences' single-token steps: padded caches, positions and a mask in, new rows [B,kv,1,hs] out.</summary>
    Batched,
}
