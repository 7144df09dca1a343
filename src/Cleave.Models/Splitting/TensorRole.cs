namespace Cleave.Models.Splitting;

/// <summary>How a tensor's value depends on the graph inputs; decides which tensors a cut must carry.</summary>
public enum TensorRole
{
    /// <summary>Initializers, Constant outputs and anything computed only from them: both halves can hold or recompute it.</summary>
    Static,

    /// <summary>A pass-through side input (attention mask, position ids) or a value computed only from side inputs and constants: both halves may read or recompute it.</summary>
    Side,

    /// <summary>Depends on the main inputs only through their shapes (Shape/Size results and what is computed from them, e.g. a causal mask sliced to the sequence length). Carried across a cut as an auxiliary tensor, never chosen as a split point on its own.</summary>
    ShapeOnly,

    /// <summary>Depends on the values of the main inputs: the tensors a cut is made of.</summary>
    Dynamic,
}
