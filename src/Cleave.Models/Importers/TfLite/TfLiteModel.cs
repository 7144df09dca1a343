namespace Cleave.Models.Importers.TfLite;

/// <summary>Affine quantization of a tensor: real = scale * (q - zero_point), per tensor or per channel along <see cref="Dimension"/>.</summary>
public sealed record TfLiteQuantization(float[] Scale, long[] ZeroPoint, int Dimension)
{
    public bool IsPresent => Scale.Length > 0;
    public bool IsPerChannel => Scale.Length > 1;
}

/// <summary>One tensor of the main subgraph; <see cref="Data"/> is non-empty for constants (weights, shapes).</summary>
public sealed record TfLiteTensor(int Index, string Name, TfLiteTensorType Type, int[] Shape, int[] ShapeSignature,
    TfLiteQuantization Quantization, ReadOnlyMemory<byte> Data)
{
    public bool IsConstant => !Data.IsEmpty;
}

/// <summary>One operator: its builtin code (or custom name), tensor indices (-1 = optional input absent) and options table.</summary>
public sealed class TfLiteOperator
{
    internal TfLiteOperator(int index, int builtinCode, string? customCode, int[] inputs, int[] outputs, FlatBufferTable? options)
    {
        Index = index;
        BuiltinCode = builtinCode;
        CustomCode = customCode;
        Inputs = inputs;
        Outputs = outputs;
        Options = options;
    }

    public int Index { get; }
    public int BuiltinCode { get; }
    public string? CustomCode { get; }
    public int[] Inputs { get; }
    public int[] Outputs { get; }

    /// <summary>The builtin options table (its layout depends on the operator), or null when the file has none.</summary>
    internal FlatBufferTable? Options { get; }

    public string OperatorName => BuiltinCode == TfLiteBuiltinOperators.Custom
        ? $"CUSTOM({CustomCode})" : TfLiteBuiltinOperators.NameOf(BuiltinCode);
}

/// <summary>The main subgraph of a .tflite model, parsed from its FlatBuffer with bounds checks.</summary>
public sealed class TfLiteModel
{
    private TfLiteModel(IReadOnlyList<TfLiteTensor> tensors, IReadOnlyList<TfLiteOperator> operators, int[] inputs, int[] outputs,
        string? description, int subgraphCount)
    {
        Tensors = tensors;
        Operators = operators;
        Inputs = inputs;
        Outputs = outputs;
        Description = description;
        SubgraphCount = subgraphCount;
    }

    public IReadOnlyList<TfLiteTensor> Tensors { get; }
    public IReadOnlyList<TfLiteOperator> Operators { get; }
    public int[] Inputs { get; }
    public int[] Outputs { get; }
    public string? Description { get; }
    public int SubgraphCount { get; }

    public static TfLiteModel Load(string path) => Parse(File.ReadAllBytes(path));

    // Field ids follow tensorflow/lite/schema/schema.fbs (a union takes two ids: its type byte, then its value).
    private static class ModelField { public const int OperatorCodes = 1, Subgraphs = 2, Description = 3, Buffers = 4; }
    private static class OperatorCodeField { public const int DeprecatedBuiltinCode = 0, CustomCode = 1, BuiltinCode = 3; }
    private static class SubGraphField { public const int Tensors = 0, Inputs = 1, Outputs = 2, Operators = 3; }
    private static class TensorField { public const int Shape = 0, Type = 1, Buffer = 2, Name = 3, Quantization = 4, ShapeSignature = 7; }
    private static class QuantizationField { public const int Scale = 2, ZeroPoint = 3, QuantizedDimension = 6; }
    private static class OperatorField { public const int OpcodeIndex = 0, Inputs = 1, Outputs = 2, BuiltinOptions = 4; }
    private static class BufferField { public const int Data = 0, Offset = 1; }

    public static TfLiteModel Parse(byte[] file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var root = FlatBufferTable.Root(file, "TFL3");

        var codes = root.GetTableVector(ModelField.OperatorCodes);
        var opcodes = new (int builtin, string? custom)[codes.Length];
        for (int i = 0; i < codes.Length; i++)
        {
            // Codes above 127 live in the int32 field; older files only fill the deprecated byte.
            int deprecated = codes[i].GetSByte(OperatorCodeField.DeprecatedBuiltinCode);
            int builtin = codes[i].GetInt32(OperatorCodeField.BuiltinCode);
            opcodes[i] = (Math.Max(deprecated, builtin), codes[i].GetString(OperatorCodeField.CustomCode));
        }

        var buffers = root.GetTableVector(ModelField.Buffers);
        var subgraphs = root.GetTableVector(ModelField.Subgraphs);
        if (subgraphs.Length == 0) throw new TfLiteFormatException("model has no subgraph");
        var main = subgraphs[0];

        var tensorTables = main.GetTableVector(SubGraphField.Tensors);
        var tensors = new TfLiteTensor[tensorTables.Length];
        for (int i = 0; i < tensorTables.Length; i++)
        {
            var t = tensorTables[i];
            uint bufferIndex = t.GetUInt32(TensorField.Buffer);
            ReadOnlyMemory<byte> data = ReadOnlyMemory<byte>.Empty;
            if (bufferIndex != 0)
            {
                if (bufferIndex >= buffers.Length)
                    throw new TfLiteFormatException($"tensor {i} refers to buffer {bufferIndex} of {buffers.Length}");
                if (buffers[bufferIndex].Has(BufferField.Offset))
                    throw new TfLiteFormatException("buffers stored outside the FlatBuffer (models over 2 GB) are not supported");
                data = buffers[bufferIndex].GetBytes(BufferField.Data);
            }
            var q = t.GetTable(TensorField.Quantization);
            var quantization = q is { } qt
                ? new TfLiteQuantization(qt.GetFloatVector(QuantizationField.Scale), qt.GetInt64Vector(QuantizationField.ZeroPoint),
                    qt.GetInt32(QuantizationField.QuantizedDimension))
                : new TfLiteQuantization([], [], 0);
            var type = (TfLiteTensorType)t.GetByte(TensorField.Type);
            var shape = t.GetInt32Vector(TensorField.Shape);
            tensors[i] = new TfLiteTensor(i, t.GetString(TensorField.Name) ?? $"tensor_{i}", type, shape,
                t.GetInt32Vector(TensorField.ShapeSignature), quantization, data);
            if (!data.IsEmpty) CheckConstantSize(tensors[i]);
        }

        var opTables = main.GetTableVector(SubGraphField.Operators);
        var operators = new TfLiteOperator[opTables.Length];
        for (int i = 0; i < opTables.Length; i++)
        {
            var o = opTables[i];
            uint opcode = o.GetUInt32(OperatorField.OpcodeIndex);
            if (opcode >= opcodes.Length) throw new TfLiteFormatException($"operator {i} uses opcode {opcode} of {opcodes.Length}");
            var inputs = o.GetInt32Vector(OperatorField.Inputs);
            var outputs = o.GetInt32Vector(OperatorField.Outputs);
            CheckIndices(inputs, tensors.Length, $"operator {i} input", allowAbsent: true);
            CheckIndices(outputs, tensors.Length, $"operator {i} output", allowAbsent: false);
            operators[i] = new TfLiteOperator(i, opcodes[opcode].builtin, opcodes[opcode].custom, inputs, outputs,
                o.GetTable(OperatorField.BuiltinOptions));
        }

        var graphInputs = main.GetInt32Vector(SubGraphField.Inputs);
        var graphOutputs = main.GetInt32Vector(SubGraphField.Outputs);
        CheckIndices(graphInputs, tensors.Length, "subgraph input", allowAbsent: false);
        CheckIndices(graphOutputs, tensors.Length, "subgraph output", allowAbsent: false);
        return new TfLiteModel(tensors, operators, graphInputs, graphOutputs, root.GetString(ModelField.Description), subgraphs.Length);
    }

    private static void CheckIndices(int[] indices, int count, string what, bool allowAbsent)
    {
        foreach (int index in indices)
            if (index >= count || index < (allowAbsent ? -1 : 0))
                throw new TfLiteFormatException($"{what} refers to tensor {index} of {count}");
    }

    private static void CheckConstantSize(TfLiteTensor t)
    {
        int elementSize = t.Type switch
        {
            TfLiteTensorType.Float32 or TfLiteTensorType.Int32 => 4,
            TfLiteTensorType.UInt8 or TfLiteTensorType.Int8 or TfLiteTensorType.Bool => 1,
            TfLiteTensorType.Int64 or TfLiteTensorType.Float64 => 8,
            TfLiteTensorType.Float16 or TfLiteTensorType.Int16 => 2,
            _ => 0,
        };
        if (elementSize == 0) return;
        long count = 1;
        foreach (int d in t.Shape)
        {
            if (d < 0) throw new TfLiteFormatException($"constant tensor '{t.Name}' has a negative dimension");
            count *= d;
            if (count > int.MaxValue) throw new TfLiteFormatException($"constant tensor '{t.Name}' is too large");
        }
        if (count * elementSize != t.Data.Length)
            throw new TfLiteFormatException($"constant tensor '{t.Name}' holds {t.Data.Length} bytes, its shape [{string.Join(",", t.Shape)}] needs {count * elementSize}");
    }
}
