namespace Cleave.Models.Onnx;

/// <summary>One dimension of a tensor type: a fixed size, a named symbol (e.g. a batch dimension), or unknown.</summary>
public readonly record struct TensorDimension(long? Value, string? Symbol)
{
    public static TensorDimension Fixed(long value) => new(value, null);
    public static TensorDimension Named(string symbol) => new(null, symbol);
    public static TensorDimension Unknown => new(null, null);

    public bool IsFixed => Value.HasValue;

    public override string ToString() => Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Symbol ?? "?";
}
