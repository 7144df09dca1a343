using Onnx;

namespace Cleave.Models.Onnx;

/// <summary>
/// The element type and shape of one tensor as a graph declares it (graph input/output or value_info) or as
/// running the model measured it. <see cref="Dimensions"/> is null when even the rank is unknown.
/// </summary>
public sealed record TensorType(int ElementType, IReadOnlyList<TensorDimension>? Dimensions)
{
    public string ElementTypeName => OnnxElementType.Name(ElementType);

    /// <summary>True when the element type and rank are known and every dimension is fixed or named.</summary>
    public bool IsComplete
    {
        get
        {
            if (ElementType == OnnxElementType.Undefined || Dimensions is null) return false;
            foreach (var d in Dimensions)
                if (!d.IsFixed && d.Symbol is null) return false;
            return true;
        }
    }

    /// <summary>
    /// Elements per sample: fixed dimensions as they are, named ones from <paramref name="symbolValues"/> (a symbol
    /// not listed counts as 1, which is right for batch dimensions). Null when the rank or a dimension is unknown.
    /// </summary>
    public long? ElementCount(IReadOnlyDictionary<string, long>? symbolValues = null)
    {
        if (Dimensions is null) return null;
        long count = 1;
        foreach (var d in Dimensions)
        {
            if (d.Value is long v) count *= v;
            else if (d.Symbol is not null) count *= symbolValues is not null && symbolValues.TryGetValue(d.Symbol, out long s) ? s : 1;
            else return null;
        }
        return count;
    }

    /// <summary>Concrete dimensions with symbols resolved as in <see cref="ElementCount"/>; null when a dimension is unknown.</summary>
    public long[]? ConcreteDimensions(IReadOnlyDictionary<string, long>? symbolValues = null)
    {
        if (Dimensions is null) return null;
        var dims = new long[Dimensions.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            var d = Dimensions[i];
            if (d.Value is long v) dims[i] = v;
            else if (d.Symbol is not null) dims[i] = symbolValues is not null && symbolValues.TryGetValue(d.Symbol, out long s) ? s : 1;
            else return null;
        }
        return dims;
    }

    /// <summary>The shape as text, e.g. <c>[N,32,112,112]</c>.</summary>
    public string ShapeText => Dimensions is null ? "[?]" : "[" + string.Join(",", Dimensions) + "]";

    public override string ToString() => $"{ElementTypeName}{ShapeText}";

    /// <summary>Reads a declared tensor type; null for non-tensor values (sequences, maps) or a missing type.</summary>
    public static TensorType? FromValueInfo(ValueInfoProto valueInfo)
    {
        if (valueInfo.Type is null || valueInfo.Type.ValueCase != TypeProto.ValueOneofCase.TensorType) return null;
        var tensor = valueInfo.Type.TensorType;
        if (tensor.Shape is null) return new TensorType(tensor.ElemType, null);
        var dims = new TensorDimension[tensor.Shape.Dim.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            var d = tensor.Shape.Dim[i];
            dims[i] = d.ValueCase switch
            {
                TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => TensorDimension.Fixed(d.DimValue),
                TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam when d.DimParam.Length > 0 => TensorDimension.Named(d.DimParam),
                _ => TensorDimension.Unknown,
            };
        }
        return new TensorType(tensor.ElemType, dims);
    }

    /// <summary>The type of an initializer or Constant value: always fully fixed.</summary>
    public static TensorType FromTensor(TensorProto tensor)
    {
        var dims = new TensorDimension[tensor.Dims.Count];
        for (int i = 0; i < dims.Length; i++) dims[i] = TensorDimension.Fixed(tensor.Dims[i]);
        return new TensorType(tensor.DataType, dims);
    }

    /// <summary>A graph input/output/value_info entry declaring this type.</summary>
    public ValueInfoProto ToValueInfo(string name)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = ElementType };
        if (Dimensions is not null)
        {
            tensor.Shape = new TensorShapeProto();
            foreach (var d in Dimensions)
            {
                var dim = new TensorShapeProto.Types.Dimension();
                if (d.Value is long v) dim.DimValue = v;
                else if (d.Symbol is not null) dim.DimParam = d.Symbol;
                tensor.Shape.Dim.Add(dim);
            }
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }
}
