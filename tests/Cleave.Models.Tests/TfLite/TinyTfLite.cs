using Cleave.Models.Importers.TfLite;

namespace Cleave.Models.Tests.TfLite;

/// <summary>Builds small .tflite files for tests (field ids as in tensorflow/lite/schema/schema.fbs).</summary>
internal sealed class TinyTfLite
{
    private readonly List<FbTable> _tensors = [];
    private readonly List<byte[]> _buffers = [[]];
    private readonly List<FbTable> _operators = [];
    private readonly List<(int code, string? custom)> _codes = [];

    public int Tensor(string name, TfLiteTensorType type, int[] shape, byte[]? data = null,
        float[]? scale = null, long[]? zeroPoint = null, int quantizedDimension = 0)
    {
        var fields = new List<(int, Fb)> { (0, FbVector.Ints(shape)), (1, FbScalar.Byte((byte)type)), (3, new FbString(name)) };
        if (data is not null)
        {
            _buffers.Add(data);
            fields.Add((2, FbScalar.Int(_buffers.Count - 1)));
        }
        if (scale is not null)
            fields.Add((4, new FbTable((2, FbVector.Floats(scale)), (3, FbVector.Longs(zeroPoint ?? new long[scale.Length])),
                (6, FbScalar.Int(quantizedDimension)))));
        _tensors.Add(new FbTable([.. fields]));
        return _tensors.Count - 1;
    }

    public int FloatTensor(string name, int[] shape, float[]? values = null) =>
        Tensor(name, TfLiteTensorType.Float32, shape, values?.SelectMany(BitConverter.GetBytes).ToArray());

    public int IntTensor(string name, params int[] values) =>
        Tensor(name, TfLiteTensorType.Int32, [values.Length], values.SelectMany(BitConverter.GetBytes).ToArray());

    /// <summary>Adds an operator; <paramref name="options"/> are (field id, value) of its builtin options table.</summary>
    public void Operator(int builtinCode, int[] inputs, int[] outputs, params (int Id, Fb Value)[] options) =>
        AddOperator(builtinCode, null, inputs, outputs, options);

    public void Custom(string name, int[] inputs, int[] outputs) =>
        AddOperator(TfLiteBuiltinOperators.Custom, name, inputs, outputs, []);

    private void AddOperator(int code, string? custom, int[] inputs, int[] outputs, (int, Fb)[] options)
    {
        int index = _codes.IndexOf((code, custom));
        if (index < 0) { _codes.Add((code, custom)); index = _codes.Count - 1; }
        var fields = new List<(int, Fb)> { (0, FbScalar.Int(index)), (1, FbVector.Ints(inputs)), (2, FbVector.Ints(outputs)) };
        if (options.Length > 0)
        {
            fields.Add((3, FbScalar.Byte(1))); // union type: any non-zero value; the converter knows the table from the opcode
            fields.Add((4, new FbTable(options)));
        }
        _operators.Add(new FbTable([.. fields]));
    }

    public byte[] Build(int[] inputs, int[] outputs)
    {
        var codes = _codes.Select(c =>
        {
            var f = new List<(int, Fb)> { (0, FbScalar.Byte((byte)Math.Min(c.code, 127))), (3, FbScalar.Int(c.code)) };
            if (c.custom is not null) f.Add((1, new FbString(c.custom)));
            return new FbTable([.. f]);
        }).ToArray();
        var subgraph = new FbTable((0, new FbTableVector([.. _tensors])), (1, FbVector.Ints(inputs)), (2, FbVector.Ints(outputs)),
            (3, new FbTableVector([.. _operators])), (4, new FbString("main")));
        var buffers = _buffers.Select(b => b.Length == 0 ? new FbTable() : new FbTable((0, FbVector.Raw(b)))).ToArray();
        var model = new FbTable((0, FbScalar.Int(3)), (1, new FbTableVector(codes)), (2, new FbTableVector(subgraph)),
            (3, new FbString("tiny")), (4, new FbTableVector(buffers)));
        return FlatBufferWriter.Build(model, "TFL3");
    }
}
