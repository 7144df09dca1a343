using System.Runtime.InteropServices;
using Onnx;
using Cleave.Models.Onnx;
using static Cleave.Models.Onnx.OnnxGraphBuilder;
using Op = Cleave.Models.Importers.TfLite.TfLiteBuiltinOperators;

namespace Cleave.Models.Importers.TfLite;

/// <summary>
/// Turns the main subgraph of a TFLite model into an ONNX float graph: quantized weights are dequantized, activation
/// quantization is dropped (QUANTIZE/DEQUANTIZE become aliases), and every 4-D activation is kept NCHW. Operators whose
/// meaning depends on the layout translate their axes; the rest see the TFLite (NHWC) layout through a Transpose.
/// Graph inputs are NCHW float; graph outputs keep the TFLite layout and names.
/// </summary>
internal sealed class TfLiteToOnnxConverter
{
    public const int OpsetVersion = 18;
    public const string BatchParameter = "N";

    private static readonly long[] ToNchw = [0, 3, 1, 2];
    private static readonly long[] ToNhwc = [0, 2, 3, 1];

    private static readonly HashSet<int> Supported =
    [
        Op.Add, Op.Sub, Op.Mul, Op.Div, Op.FloorDiv, Op.Maximum, Op.Minimum, Op.SquaredDifference, Op.Pow,
        Op.AveragePool2D, Op.MaxPool2D, Op.Concatenation, Op.Conv2D, Op.DepthwiseConv2D, Op.FullyConnected,
        Op.Quantize, Op.Dequantize, Op.Cast, Op.Logistic, Op.Tanh, Op.Relu, Op.Relu6, Op.ReluN1To1, Op.HardSwish,
        Op.LeakyRelu, Op.Sqrt, Op.Rsqrt, Op.Exp, Op.Log, Op.Abs, Op.Neg, Op.Floor, Op.Ceil, Op.Round, Op.Square,
        Op.Reshape, Op.Squeeze, Op.ExpandDims, Op.Softmax, Op.Pad, Op.PadV2, Op.Mean, Op.Sum, Op.ReduceMax, Op.ReduceMin,
        Op.ResizeBilinear, Op.ResizeNearestNeighbor, Op.ArgMax, Op.Pack, Op.Unpack, Op.GatherNd, Op.Gather, Op.Transpose,
    ];

    private readonly TfLiteModel _model;
    private readonly OnnxGraphBuilder _g = new();
    private readonly Value?[] _values;
    private readonly int[] _constantAlias;
    private readonly Dictionary<(int tensor, int mode), string> _constants = [];
    private readonly Dictionary<string, string> _nhwcViews = new(StringComparer.Ordinal);
    private readonly HashSet<int> _graphOutputs;
    private readonly string?[] _reservedOutputNames;
    private readonly string?[] _valueNames;
    private readonly Dictionary<float, string> _scalars = [];
    private readonly HashSet<string> _valueInfoNames = new(StringComparer.Ordinal);
    private readonly List<string> _problems = [];

    private readonly record struct Value(string Name, bool Nchw);

    private TfLiteToOnnxConverter(TfLiteModel model, bool symbolicBatch)
    {
        _model = model;
        SymbolicBatch = symbolicBatch;
        _values = new Value?[model.Tensors.Count];
        _constantAlias = new int[model.Tensors.Count];
        for (int i = 0; i < _constantAlias.Length; i++) _constantAlias[i] = i;
        _graphOutputs = [.. model.Outputs];
        _reservedOutputNames = new string?[model.Tensors.Count];
        _valueNames = new string?[model.Tensors.Count];
    }

    public bool SymbolicBatch { get; }

    /// <summary>Operators that cannot be converted, with counts, before any conversion work is done.</summary>
    public static List<string> FindUnsupported(TfLiteModel model)
    {
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var op in model.Operators)
            if (op.BuiltinCode == Op.Custom || !Supported.Contains(op.BuiltinCode))
                counts[op.OperatorName] = counts.GetValueOrDefault(op.OperatorName) + 1;
        return [.. counts.Select(kv => kv.Value == 1 ? kv.Key : $"{kv.Key} (x{kv.Value})")];
    }

    /// <summary>
    /// A symbolic batch is safe when every activation has batch 1 in front and no operator mixes the batch
    /// with other axes (gathers, packs, reshapes that move it); otherwise the batch stays fixed at 1.
    /// </summary>
    public static bool CanUseSymbolicBatch(TfLiteModel model)
    {
        var constant = new bool[model.Tensors.Count];
        for (int i = 0; i < constant.Length; i++) constant[i] = model.Tensors[i].IsConstant;
        foreach (var op in model.Operators)
        {
            if (op.BuiltinCode is Op.GatherNd or Op.Gather or Op.Pack or Op.Unpack or Op.Transpose) return false;
            foreach (int o in op.Outputs)
            {
                var shape = model.Tensors[o].Shape;
                if (shape.Length == 0 || shape[0] != 1) return false;
            }
            if (op.BuiltinCode is Op.Mean or Op.Sum or Op.ReduceMax or Op.ReduceMin or Op.ArgMax && op.Inputs.Length > 1
                && op.Inputs[1] >= 0 && model.Tensors[op.Inputs[1]].IsConstant)
                foreach (int axis in ReadInts(model.Tensors[op.Inputs[1]]))
                    if (axis == 0) return false;
            if (op.BuiltinCode == Op.Concatenation && op.Options is { } opt && opt.GetInt32(0) == 0) return false;
        }
        foreach (int i in model.Inputs)
            if (model.Tensors[i].Shape is not [1, ..]) return false;
        return true;
    }

    public static GraphProto Convert(TfLiteModel model, bool symbolicBatch, string inputName, out List<string> problems)
    {
        var converter = new TfLiteToOnnxConverter(model, symbolicBatch);
        converter.Run(inputName);
        problems = converter._problems;
        return converter._g.Graph;
    }

    private void Run(string inputName)
    {
        // Names are reserved before any constant is added: the graph's results keep their TFLite names, and
        // activations (the places a model is cut) win over weights when TFLite gave both the same name.
        string reservedInput = _g.UniqueName(inputName);
        foreach (int o in _model.Outputs) _reservedOutputNames[o] = _g.UniqueName(Sanitize(_model.Tensors[o].Name));
        foreach (var op in _model.Operators)
            foreach (int o in op.Outputs)
            {
                if (_valueNames[o] is not null) continue;
                var t = _model.Tensors[o];
                _valueNames[o] = _reservedOutputNames[o] is { } reserved
                    ? (t.Shape.Length == 4 ? _g.UniqueName(reserved + "_nchw") : reserved)
                    : _g.UniqueName(Sanitize(t.Name));
            }

        for (int i = 0; i < _model.Inputs.Length; i++)
        {
            var t = _model.Tensors[_model.Inputs[i]];
            string name = i == 0 ? reservedInput : _g.UniqueName(Sanitize(t.Name));
            bool nchw = t.Shape.Length == 4;
            _g.Graph.Input.Add(ValueInfo(name, OnnxElementType.Float, OnnxDims(t.Shape, nchw), SymbolicBatch ? BatchParameter : null));
            _values[t.Index] = new Value(name, nchw);
            _valueInfoNames.Add(name);
        }

        foreach (var op in _model.Operators)
        {
            try
            {
                ConvertOperator(op);
            }
            catch (NotSupportedException e)
            {
                _problems.Add($"{op.OperatorName} (operator {op.Index}): {e.Message}");
            }
            catch (Exception e) when (e is IndexOutOfRangeException or ArgumentException or OverflowException or InvalidCastException)
            {
                // Inputs, shapes or options that contradict the operator's definition: a broken file, not a gap in the importer.
                throw new TfLiteFormatException($"operator {op.Index} ({op.OperatorName}) is malformed: {e.Message}");
            }
        }
        if (_problems.Count > 0) return;

        foreach (int o in _model.Outputs)
        {
            var t = _model.Tensors[o];
            var v = _values[o] ?? throw new NotSupportedException($"graph output '{t.Name}' is never computed");
            string finalName = _reservedOutputNames[o]!;
            if (v.Name != finalName)
                _g.AddNode(v.Nchw ? "Transpose" : "Identity", [v.Name], finalName, v.Nchw ? [Ints("perm", ToNhwc)] : []);
            _g.Graph.Output.Add(ValueInfo(finalName, OnnxType(t), OnnxDims(t.Shape, false), SymbolicBatch ? BatchParameter : null));
            _valueInfoNames.Add(finalName);
        }
    }

    private void ConvertOperator(TfLiteOperator op)
    {
        int code = op.BuiltinCode;
        var options = op.Options;
        switch (code)
        {
            case Op.Conv2D: ConvertConvolution(op, depthwise: false); break;
            case Op.DepthwiseConv2D: ConvertConvolution(op, depthwise: true); break;
            case Op.FullyConnected: ConvertFullyConnected(op); break;
            case Op.AveragePool2D or Op.MaxPool2D: ConvertPool(op); break;
            case Op.Add: Binary(op, "Add", Activation(options, 0)); break;
            case Op.Sub: Binary(op, "Sub", Activation(options, 0)); break;
            case Op.Mul: Binary(op, "Mul", Activation(options, 0)); break;
            case Op.Div: Binary(op, "Div", Activation(options, 0)); break;
            case Op.Maximum: Binary(op, "Max", TfLiteActivation.None); break;
            case Op.Minimum: Binary(op, "Min", TfLiteActivation.None); break;
            case Op.Pow: Binary(op, "Pow", TfLiteActivation.None); break;
            case Op.FloorDiv: ConvertFloorDiv(op); break;
            case Op.SquaredDifference: ConvertSquaredDifference(op); break;
            case Op.Quantize or Op.Dequantize: Alias(op); break;
            case Op.Cast: ConvertCast(op); break;
            case Op.Logistic: Unary(op, "Sigmoid"); break;
            case Op.Tanh: Unary(op, "Tanh"); break;
            case Op.Relu: Unary(op, "Relu"); break;
            case Op.Relu6: UnaryClip(op, 0, 6); break;
            case Op.ReluN1To1: UnaryClip(op, -1, 1); break;
            case Op.HardSwish: Unary(op, "HardSwish"); break;
            case Op.LeakyRelu: Unary(op, "LeakyRelu", Float("alpha", options?.GetFloat(0) ?? 0.2f)); break;
            case Op.Sqrt: Unary(op, "Sqrt"); break;
            case Op.Exp: Unary(op, "Exp"); break;
            case Op.Log: Unary(op, "Log"); break;
            case Op.Abs: Unary(op, "Abs"); break;
            case Op.Neg: Unary(op, "Neg"); break;
            case Op.Floor: Unary(op, "Floor"); break;
            case Op.Ceil: Unary(op, "Ceil"); break;
            case Op.Round: Unary(op, "Round"); break;
            case Op.Rsqrt:
            {
                var x = Get(op.Inputs[0]);
                string sqrt = _g.Emit("Sqrt", x.Name + "_sqrt", [x.Name]);
                Define(op.Outputs[0], _g.AddNode("Reciprocal", [sqrt], ResultName(op.Outputs[0])), x.Nchw);
                break;
            }
            case Op.Square:
            {
                var x = Get(op.Inputs[0]);
                Define(op.Outputs[0], _g.AddNode("Mul", [x.Name, x.Name], ResultName(op.Outputs[0])), x.Nchw);
                break;
            }
            case Op.Reshape or Op.Squeeze or Op.ExpandDims: ConvertReshape(op); break;
            case Op.Softmax: ConvertSoftmax(op); break;
            case Op.Pad or Op.PadV2: ConvertPad(op); break;
            case Op.Mean: ConvertReduce(op, "ReduceMean"); break;
            case Op.Sum: ConvertReduce(op, "ReduceSum"); break;
            case Op.ReduceMax: ConvertReduce(op, "ReduceMax"); break;
            case Op.ReduceMin: ConvertReduce(op, "ReduceMin"); break;
            case Op.ResizeBilinear or Op.ResizeNearestNeighbor: ConvertResize(op); break;
            case Op.Concatenation: ConvertConcatenation(op); break;
            case Op.ArgMax: ConvertArgMax(op); break;
            case Op.Pack: ConvertPack(op); break;
            case Op.Unpack: ConvertUnpack(op); break;
            case Op.GatherNd: ConvertGatherNd(op); break;
            case Op.Gather: ConvertGather(op); break;
            case Op.Transpose: ConvertTranspose(op); break;
            default: throw new NotSupportedException("operator is not supported");
        }
    }

    // ---- convolution, pooling, dense ----

    private void ConvertConvolution(TfLiteOperator op, bool depthwise)
    {
        var options = op.Options ?? throw new NotSupportedException("missing options");
        // Conv2DOptions: padding 0, stride_w 1, stride_h 2, activation 3, dilation_w 4, dilation_h 5.
        // DepthwiseConv2DOptions: padding 0, stride_w 1, stride_h 2, depth_multiplier 3, activation 4, dilation_w 5, dilation_h 6.
        byte padding = options.GetByte(0);
        int strideW = Math.Max(1, options.GetInt32(1)), strideH = Math.Max(1, options.GetInt32(2));
        byte activation = options.GetByte(depthwise ? 4 : 3);
        int dilationW = Math.Max(1, options.GetInt32(depthwise ? 5 : 4, 1));
        int dilationH = Math.Max(1, options.GetInt32(depthwise ? 6 : 5, 1));

        var input = _model.Tensors[op.Inputs[0]];
        var weights = ConstantTensor(op.Inputs[1], "weights");
        if (input.Shape.Length != 4 || weights.Shape.Length != 4) throw new NotSupportedException("expects 4-D input and weights");
        var x = Get(op.Inputs[0]);
        if (!x.Nchw) throw new NotSupportedException("input is not an image tensor");

        int kh = weights.Shape[1], kw = weights.Shape[2];
        float[] w = Dequantize(weights);
        float[] onnxWeights;
        long[] onnxShape;
        int group = 1;
        if (depthwise)
        {
            // TFLite [1, kh, kw, C*M] -> ONNX [C*M, 1, kh, kw] with one group per input channel.
            int outChannels = weights.Shape[3];
            onnxWeights = Permute(w, weights.Shape, [3, 0, 1, 2]);
            onnxShape = [outChannels, 1, kh, kw];
            group = input.Shape[3];
        }
        else
        {
            // TFLite [O, kh, kw, I] -> ONNX [O, I, kh, kw].
            onnxWeights = Permute(w, weights.Shape, [0, 3, 1, 2]);
            onnxShape = [weights.Shape[0], weights.Shape[3], kh, kw];
            if (weights.Shape[3] != input.Shape[3])
            {
                if (input.Shape[3] % weights.Shape[3] != 0) throw new NotSupportedException("weight channels do not divide the input channels");
                group = input.Shape[3] / weights.Shape[3];
            }
        }

        var inputs = new List<string> { x.Name, _g.AddFloats(ConstantHint(weights), onnxWeights, onnxShape) };
        if (op.Inputs.Length > 2 && op.Inputs[2] >= 0)
        {
            var bias = ConstantTensor(op.Inputs[2], "bias");
            inputs.Add(_g.AddFloats(ConstantHint(bias), Dequantize(bias), onnxShape[0]));
        }

        var pads = Padding(padding, input.Shape[1], input.Shape[2], kh, kw, strideH, strideW, dilationH, dilationW);
        EmitWithActivation("Conv", op.Outputs[0], inputs, activation, nchw: true,
            Ints("kernel_shape", kh, kw), Ints("strides", strideH, strideW), Ints("dilations", dilationH, dilationW),
            Ints("pads", pads), Int("group", group));
    }

    private void ConvertPool(TfLiteOperator op)
    {
        var options = op.Options ?? throw new NotSupportedException("missing options");
        // Pool2DOptions: padding 0, stride_w 1, stride_h 2, filter_width 3, filter_height 4, activation 5.
        byte padding = options.GetByte(0);
        int strideW = Math.Max(1, options.GetInt32(1)), strideH = Math.Max(1, options.GetInt32(2));
        int fw = options.GetInt32(3), fh = options.GetInt32(4);
        var input = _model.Tensors[op.Inputs[0]];
        var x = Get(op.Inputs[0]);
        if (!x.Nchw) throw new NotSupportedException("input is not an image tensor");
        var pads = Padding(padding, input.Shape[1], input.Shape[2], fh, fw, strideH, strideW, 1, 1);
        // TFLite averages only over the valid (unpadded) cells, as ONNX does with count_include_pad = 0.
        EmitWithActivation(op.BuiltinCode == Op.AveragePool2D ? "AveragePool" : "MaxPool", op.Outputs[0], [x.Name],
            options.GetByte(5), nchw: true, Ints("kernel_shape", fh, fw), Ints("strides", strideH, strideW), Ints("pads", pads));
    }

    private void ConvertFullyConnected(TfLiteOperator op)
    {
        // FullyConnectedOptions: activation 0, weights_format 1, keep_num_dims 2.
        byte activation = op.Options?.GetByte(0) ?? TfLiteActivation.None;
        if (op.Options?.GetByte(1) is > 0) throw new NotSupportedException("shuffled weights format");
        var weights = ConstantTensor(op.Inputs[1], "weights");
        if (weights.Shape.Length != 2) throw new NotSupportedException("weights are not 2-D");
        int units = weights.Shape[0], depth = weights.Shape[1];
        var input = _model.Tensors[op.Inputs[0]];
        var x = Get(op.Inputs[0]);

        string flat;
        if (x.Nchw && input.Shape[1] == 1 && input.Shape[2] == 1)
            flat = _g.Emit("Flatten", x.Name + "_flat", [x.Name], Int("axis", 1));
        else if (input.Shape.Length == 2)
            flat = x.Name;
        else
            flat = _g.Emit("Reshape", x.Name + "_flat", [Native(op.Inputs[0]), _g.AddInt64Vector("fc_shape", -1, depth)]);

        var inputs = new List<string> { flat, _g.AddFloats(ConstantHint(weights), Dequantize(weights), units, depth) };
        if (op.Inputs.Length > 2 && op.Inputs[2] >= 0)
        {
            var bias = ConstantTensor(op.Inputs[2], "bias");
            inputs.Add(_g.AddFloats(ConstantHint(bias), Dequantize(bias), units));
        }
        var output = _model.Tensors[op.Outputs[0]];
        if (output.Shape.Length == 2)
        {
            EmitWithActivation("Gemm", op.Outputs[0], inputs, activation, nchw: false, Int("transB", 1));
        }
        else
        {
            // keep_num_dims: the dense result is reshaped back to the TFLite output shape.
            string dense = _g.Emit("Gemm", Sanitize(output.Name) + "_dense", inputs, Int("transB", 1));
            string shaped = _g.Emit("Reshape", Sanitize(output.Name) + "_shaped", [dense, _g.AddInt64Vector("shape", ToLongs(output.Shape))]);
            FinishActivation(op.Outputs[0], shaped, activation, nchw: false);
        }
    }

    private static long[] Padding(byte padding, int inH, int inW, int kh, int kw, int sh, int sw, int dh, int dw)
    {
        if (padding == TfLitePadding.Valid) return [0, 0, 0, 0];
        // SAME: output = ceil(in / stride); any odd total goes to the end, as in TensorFlow.
        static (long begin, long end) Axis(int size, int k, int s, int d)
        {
            int output = (size + s - 1) / s;
            int total = Math.Max((output - 1) * s + (k - 1) * d + 1 - size, 0);
            return (total / 2, total - total / 2);
        }
        var (top, bottom) = Axis(inH, kh, sh, dh);
        var (left, right) = Axis(inW, kw, sw, dw);
        return [top, left, bottom, right];
    }

    // ---- element-wise ----

    private void Binary(TfLiteOperator op, string onnxOp, byte activation)
    {
        var output = _model.Tensors[op.Outputs[0]];
        bool nchw = output.Shape.Length == 4;
        string a = Operand(op.Inputs[0], nchw), b = Operand(op.Inputs[1], nchw);
        EmitWithActivation(onnxOp, op.Outputs[0], [a, b], activation, nchw);
    }

    private void ConvertFloorDiv(TfLiteOperator op)
    {
        var output = _model.Tensors[op.Outputs[0]];
        bool nchw = output.Shape.Length == 4;
        string a = Operand(op.Inputs[0], nchw), b = Operand(op.Inputs[1], nchw);
        if (OnnxType(output) == OnnxElementType.Float)
        {
            string q = _g.Emit("Div", Sanitize(output.Name) + "_quotient", [a, b]);
            Define(op.Outputs[0], _g.AddNode("Floor", [q], ResultName(op.Outputs[0])), nchw);
        }
        else
        {
            // Integer Div truncates toward zero; floor and truncation agree for the non-negative indices
            // TFLite models divide (flattened arg-max positions).
            Define(op.Outputs[0], _g.AddNode("Div", [a, b], ResultName(op.Outputs[0])), nchw);
        }
    }

    private void ConvertSquaredDifference(TfLiteOperator op)
    {
        var output = _model.Tensors[op.Outputs[0]];
        bool nchw = output.Shape.Length == 4;
        string a = Operand(op.Inputs[0], nchw), b = Operand(op.Inputs[1], nchw);
        string d = _g.Emit("Sub", Sanitize(output.Name) + "_difference", [a, b]);
        Define(op.Outputs[0], _g.AddNode("Mul", [d, d], ResultName(op.Outputs[0])), nchw);
    }

    private void Unary(TfLiteOperator op, string onnxOp, params AttributeProto[] attributes)
    {
        var x = Get(op.Inputs[0]);
        Define(op.Outputs[0], _g.AddNode(onnxOp, [x.Name], ResultName(op.Outputs[0]), attributes), x.Nchw);
    }

    private void UnaryClip(TfLiteOperator op, float min, float max)
    {
        var x = Get(op.Inputs[0]);
        Define(op.Outputs[0], _g.AddNode("Clip", [x.Name, Scalar(min), Scalar(max)],
            ResultName(op.Outputs[0])), x.Nchw);
    }

    /// <summary>QUANTIZE/DEQUANTIZE: the float graph has no activation quantization, so the output is the input.</summary>
    private void Alias(TfLiteOperator op)
    {
        int input = op.Inputs[0], output = op.Outputs[0];
        if (_model.Tensors[input].IsConstant || _constantAlias[input] != input)
        {
            _constantAlias[output] = _constantAlias[input];
            return;
        }
        var x = Get(input);
        if (_graphOutputs.Contains(output))
            Define(output, _g.AddNode("Identity", [x.Name], ResultName(output)), x.Nchw);
        else
            _values[output] = x;
    }

    private void ConvertCast(TfLiteOperator op)
    {
        int input = op.Inputs[0], output = op.Outputs[0];
        var x = Get(input);
        int from = _model.Inputs.Contains(input) ? OnnxElementType.Float : OnnxType(_model.Tensors[input]);
        int to = OnnxType(_model.Tensors[output]);
        if (from == to) { Alias(op); return; }
        Define(output, _g.AddNode("Cast", [x.Name], ResultName(output), Int("to", to)), x.Nchw);
    }

    // ---- shape and layout ----

    private void ConvertReshape(TfLiteOperator op)
    {
        // The TFLite output shape is static, so it is used directly (whatever the new_shape input says);
        // with a symbolic batch, 0 copies the batch through.
        var output = _model.Tensors[op.Outputs[0]];
        var shape = ToLongs(output.Shape);
        if (SymbolicBatch && shape.Length > 0) shape[0] = 0;
        string input = Native(op.Inputs[0]);
        bool nchw = output.Shape.Length == 4;
        if (!nchw)
        {
            Define(op.Outputs[0], _g.AddNode("Reshape", [input, _g.AddInt64Vector("shape", shape)], ResultName(op.Outputs[0])), false);
            return;
        }
        string reshaped = _g.Emit("Reshape", Sanitize(output.Name) + "_nhwc", [input, _g.AddInt64Vector("shape", shape)]);
        Define(op.Outputs[0], _g.AddNode("Transpose", [reshaped], ResultName(op.Outputs[0]), Ints("perm", ToNchw)), true);
    }

    private void ConvertTranspose(TfLiteOperator op)
    {
        var perm = ToLongs(ReadInts(ConstantTensor(op.Inputs[1], "permutation")));
        FinishNative(op.Outputs[0], "Transpose", [Native(op.Inputs[0])], Ints("perm", perm));
    }

    private void ConvertSoftmax(TfLiteOperator op)
    {
        float beta = op.Options?.GetFloat(0, 1f) ?? 1f;
        var x = Get(op.Inputs[0]);
        string input = x.Name;
        if (beta != 1f && beta != 0f)
            input = _g.Emit("Mul", x.Name + "_scaled", [x.Name, Scalar(beta)]);
        int axis = x.Nchw ? 1 : -1;
        Define(op.Outputs[0], _g.AddNode("Softmax", [input], ResultName(op.Outputs[0]), Int("axis", axis)), x.Nchw);
    }

    private void ConvertPad(TfLiteOperator op)
    {
        var paddings = ReadInts(ConstantTensor(op.Inputs[1], "paddings"));
        var input = _model.Tensors[op.Inputs[0]];
        int rank = input.Shape.Length;
        if (paddings.Length != 2 * rank) throw new NotSupportedException("paddings do not match the input rank");
        var x = Get(op.Inputs[0]);
        var pads = new long[2 * rank];
        for (int a = 0; a < rank; a++)
        {
            int target = x.Nchw ? NchwAxis(a, rank) : a;
            pads[target] = paddings[2 * a];
            pads[rank + target] = paddings[2 * a + 1];
        }
        var inputs = new List<string> { x.Name, _g.AddInt64Vector("pads", pads) };
        if (op.BuiltinCode == Op.PadV2 && op.Inputs.Length > 2 && op.Inputs[2] >= 0)
            inputs.Add(Scalar(Dequantize(ConstantTensor(op.Inputs[2], "pad value"))[0]));
        Define(op.Outputs[0], _g.AddNode("Pad", inputs, ResultName(op.Outputs[0])), x.Nchw);
    }

    private void ConvertReduce(TfLiteOperator op, string onnxOp)
    {
        bool keepDims = op.Options?.GetBool(0) ?? false;
        var input = _model.Tensors[op.Inputs[0]];
        int rank = input.Shape.Length;
        var axes = ReadInts(ConstantTensor(op.Inputs[1], "axes")).Select(a => a < 0 ? a + rank : a).Distinct().ToArray();
        var x = Get(op.Inputs[0]);
        bool nchw = x.Nchw && (keepDims || RemainingOrderMatches(axes, rank));
        string source = x.Nchw && !nchw ? Native(op.Inputs[0]) : x.Name;
        var onnxAxes = axes.Select(a => (long)(nchw ? NchwAxis(a, rank) : a)).ToArray();
        Define(op.Outputs[0], _g.AddNode(onnxOp, [source, _g.AddInt64Vector("axes", onnxAxes)], ResultName(op.Outputs[0]),
            Int("keepdims", keepDims ? 1 : 0)), nchw && keepDims);
    }

    private void ConvertArgMax(TfLiteOperator op)
    {
        var input = _model.Tensors[op.Inputs[0]];
        int rank = input.Shape.Length;
        int axis = ReadInts(ConstantTensor(op.Inputs[1], "axis"))[0];
        if (axis < 0) axis += rank;
        var x = Get(op.Inputs[0]);
        bool nchw = x.Nchw && RemainingOrderMatches([axis], rank);
        string source = x.Nchw && !nchw ? Native(op.Inputs[0]) : x.Name;
        var output = _model.Tensors[op.Outputs[0]];
        int onnxAxis = nchw ? NchwAxis(axis, rank) : axis;
        if (OnnxType(output) == OnnxElementType.Int64)
        {
            Define(op.Outputs[0], _g.AddNode("ArgMax", [source], ResultName(op.Outputs[0]), Int("axis", onnxAxis), Int("keepdims", 0)), false);
            return;
        }
        string index = _g.Emit("ArgMax", Sanitize(output.Name) + "_int64", [source], Int("axis", onnxAxis), Int("keepdims", 0));
        Define(op.Outputs[0], _g.AddNode("Cast", [index], ResultName(op.Outputs[0]), Int("to", OnnxType(output))), false);
    }

    private void ConvertResize(TfLiteOperator op)
    {
        var size = ReadInts(ConstantTensor(op.Inputs[1], "size"));
        var x = Get(op.Inputs[0]);
        if (!x.Nchw || size.Length != 2) throw new NotSupportedException("expects a 4-D input and a [height, width] size");
        bool bilinear = op.BuiltinCode == Op.ResizeBilinear;
        // ResizeBilinearOptions: new_height 0, new_width 1 (deprecated), align_corners 2, half_pixel_centers 3.
        // ResizeNearestNeighborOptions: align_corners 0, half_pixel_centers 1.
        bool alignCorners = op.Options?.GetBool(bilinear ? 2 : 0) ?? false;
        bool halfPixel = op.Options?.GetBool(bilinear ? 3 : 1) ?? false;
        string mode = alignCorners ? "align_corners" : halfPixel ? (bilinear ? "half_pixel" : "tf_half_pixel_for_nn") : "asymmetric";
        var attributes = new List<AttributeProto>
        {
            String("mode", bilinear ? "linear" : "nearest"),
            String("coordinate_transformation_mode", mode),
            Ints("axes", 2, 3),
        };
        if (!bilinear) attributes.Add(String("nearest_mode", alignCorners ? "round_prefer_ceil" : "floor"));
        Define(op.Outputs[0], _g.AddNode("Resize", [x.Name, "", "", _g.AddInt64Vector("sizes", size[0], size[1])],
            ResultName(op.Outputs[0]), [.. attributes]), true);
    }

    private void ConvertConcatenation(TfLiteOperator op)
    {
        // ConcatenationOptions: axis 0, activation 1.
        int axis = op.Options?.GetInt32(0) ?? 0;
        var output = _model.Tensors[op.Outputs[0]];
        int rank = output.Shape.Length;
        if (axis < 0) axis += rank;
        bool nchw = rank == 4;
        var inputs = op.Inputs.Select(i => Operand(i, nchw)).ToList();
        EmitWithActivation("Concat", op.Outputs[0], inputs, op.Options?.GetByte(1) ?? TfLiteActivation.None, nchw,
            Int("axis", nchw ? NchwAxis(axis, rank) : axis));
    }

    private void ConvertPack(TfLiteOperator op)
    {
        // PackOptions: values_count 0, axis 1.
        var output = _model.Tensors[op.Outputs[0]];
        int axis = op.Options?.GetInt32(1) ?? 0;
        if (axis < 0) axis += output.Shape.Length;
        string axes = _g.AddInt64Vector("pack_axis", axis);
        var parts = op.Inputs.Select(i => _g.Emit("Unsqueeze", Sanitize(output.Name) + "_part", [Native(i), axes])).ToList();
        FinishNative(op.Outputs[0], "Concat", parts, Int("axis", axis));
    }

    private void ConvertUnpack(TfLiteOperator op)
    {
        // UnpackOptions: num 0, axis 1.
        var input = _model.Tensors[op.Inputs[0]];
        int axis = op.Options?.GetInt32(1) ?? 0;
        if (axis < 0) axis += input.Shape.Length;
        int count = op.Outputs.Length;
        string source = Native(op.Inputs[0]);
        var pieces = Enumerable.Range(0, count).Select(i => _g.UniqueName(Sanitize(input.Name) + $"_piece{i}")).ToList();
        var ones = new long[count];
        Array.Fill(ones, 1);
        _g.AddNode("Split", [source, _g.AddInt64Vector("split", ones)], pieces, Int("axis", axis));
        string axes = _g.AddInt64Vector("unpack_axis", axis);
        for (int i = 0; i < count; i++)
            FinishNative(op.Outputs[i], "Squeeze", [pieces[i], axes]);
    }

    private void ConvertGatherNd(TfLiteOperator op)
    {
        string data = Native(op.Inputs[0]);
        string indices = _g.Emit("Cast", "gather_indices", [Native(op.Inputs[1])], Int("to", OnnxElementType.Int64));
        FinishNative(op.Outputs[0], "GatherND", [data, indices]);
    }

    private void ConvertGather(TfLiteOperator op)
    {
        // GatherOptions: axis 0, batch_dims 1.
        if (op.Options?.GetInt32(1) is > 0) throw new NotSupportedException("batch_dims is not supported");
        int axis = op.Options?.GetInt32(0) ?? 0;
        string indices = _g.Emit("Cast", "gather_indices", [Native(op.Inputs[1])], Int("to", OnnxElementType.Int64));
        FinishNative(op.Outputs[0], "Gather", [Native(op.Inputs[0]), indices], Int("axis", axis));
    }

    /// <summary>Emits a layout-unaware node on native inputs; a 4-D result is brought back to NCHW.</summary>
    private void FinishNative(int output, string onnxOp, IReadOnlyList<string> inputs, params AttributeProto[] attributes)
    {
        var t = _model.Tensors[output];
        if (t.Shape.Length != 4)
        {
            Define(output, _g.AddNode(onnxOp, inputs, ResultName(output), attributes), false);
            return;
        }
        string native = _g.Emit(onnxOp, Sanitize(t.Name) + "_nhwc", inputs, attributes);
        Define(output, _g.AddNode("Transpose", [native], ResultName(output), Ints("perm", ToNchw)), true);
    }

    // ---- activations and naming ----

    private static byte Activation(FlatBufferTable? options, int fieldId) => options?.GetByte(fieldId) ?? TfLiteActivation.None;

    /// <summary>Emits the main node; a fused activation follows as its own node, which then owns the TFLite name.</summary>
    private void EmitWithActivation(string onnxOp, int output, IReadOnlyList<string> inputs, byte activation, bool nchw,
        params AttributeProto[] attributes)
    {
        if (activation == TfLiteActivation.None)
        {
            Define(output, _g.AddNode(onnxOp, inputs, ResultName(output), attributes), nchw);
            return;
        }
        string pre = _g.Emit(onnxOp, Sanitize(_model.Tensors[output].Name) + "_preact", inputs, attributes);
        FinishActivation(output, pre, activation, nchw);
    }

    private void FinishActivation(int output, string pre, byte activation, bool nchw)
    {
        string name = activation == TfLiteActivation.None ? pre : ResultName(output);
        switch (activation)
        {
            case TfLiteActivation.None: break;
            case TfLiteActivation.Relu: _g.AddNode("Relu", [pre], name); break;
            case TfLiteActivation.Relu6: _g.AddNode("Clip", [pre, Scalar(0f), Scalar(6f)], name); break;
            case TfLiteActivation.ReluN1To1: _g.AddNode("Clip", [pre, Scalar(-1f), Scalar(1f)], name); break;
            case TfLiteActivation.Tanh: _g.AddNode("Tanh", [pre], name); break;
            default: throw new NotSupportedException($"fused activation {activation} is not supported");
        }
        Define(output, name, nchw);
    }

    /// <summary>
    /// The ONNX name for a TFLite tensor's value, reserved up front. A 4-D graph output's NCHW value has its own name
    /// and is transposed back to the reserved TFLite name at the end.
    /// </summary>
    private string ResultName(int tensor) => _valueNames[tensor] ?? _g.UniqueName(Sanitize(_model.Tensors[tensor].Name));

    /// <summary>One shared initializer per scalar value (clip bounds, softmax beta, pad value).</summary>
    private string Scalar(float value)
    {
        if (!_scalars.TryGetValue(value, out var name))
            _scalars[value] = name = _g.AddFloats(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"scalar_{value}"), [value]);
        return name;
    }

    private void Define(int tensor, string name, bool nchw)
    {
        _values[tensor] = new Value(name, nchw);
        // Shapes of intermediate values are static in TFLite: recording them saves later tools a shape inference.
        // Graph outputs' final names are described in the output list instead.
        if (_reservedOutputNames[tensor] == name || !_valueInfoNames.Add(name)) return;
        var t = _model.Tensors[tensor];
        _g.Graph.ValueInfo.Add(ValueInfo(name, OnnxType(t), OnnxDims(t.Shape, nchw), SymbolicBatch && t.Shape.Length > 0 ? BatchParameter : null));
    }

    /// <summary>Keeps the meaningful part of a TFLite name (before the first ';' of fused names), safe for files and CLIs.</summary>
    public static string Sanitize(string name)
    {
        int cut = name.IndexOf(';');
        if (cut > 0) name = name[..cut];
        var chars = name.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
            if (!(char.IsAsciiLetterOrDigit(chars[i]) || chars[i] is '_' or '/' or '.' or '-')) chars[i] = '_';
        string result = new(chars);
        return result.Length == 0 ? "tensor" : result;
    }

    // ---- values and constants ----

    private Value Get(int tensor)
    {
        if (tensor < 0) throw new NotSupportedException("a required input is absent");
        if (_values[tensor] is { } v) return v;
        int source = _constantAlias[tensor];
        if (_model.Tensors[source].IsConstant)
        {
            var t = _model.Tensors[source];
            return new Value(Constant(source, t.Shape.Length == 4 ? 1 : 0), t.Shape.Length == 4);
        }
        throw new NotSupportedException($"input '{_model.Tensors[tensor].Name}' is used before it is computed");
    }

    /// <summary>The tensor in TFLite layout (a Transpose view of an NCHW activation, made once).</summary>
    private string Native(int tensor)
    {
        int source = _constantAlias[tensor];
        if (_values[tensor] is null && _model.Tensors[source].IsConstant) return Constant(source, 0);
        var v = Get(tensor);
        if (!v.Nchw) return v.Name;
        if (_nhwcViews.TryGetValue(v.Name, out var view)) return view;
        view = _g.Emit("Transpose", v.Name + "_nhwc", [v.Name], Ints("perm", ToNhwc));
        _nhwcViews[v.Name] = view;
        return view;
    }

    /// <summary>An element-wise operand: NCHW when the result is 4-D (lower-rank operands broadcast as in NHWC), else native.</summary>
    private string Operand(int tensor, bool nchwResult)
    {
        if (!nchwResult) return Native(tensor);
        int source = _constantAlias[tensor];
        if (_values[tensor] is null && _model.Tensors[source].IsConstant) return Constant(source, 2);
        var v = Get(tensor);
        if (v.Nchw) return v.Name;
        // A lower-rank activation broadcast against a 4-D one: pad to rank 4 the NHWC way, then transpose.
        var t = _model.Tensors[tensor];
        var padded = PadShapeTo4(t.Shape);
        string reshaped = _g.Emit("Reshape", v.Name + "_4d", [v.Name, _g.AddInt64Vector("shape", ToLongs(padded))]);
        return _g.Emit("Transpose", v.Name + "_nchw", [reshaped], Ints("perm", ToNchw));
    }

    /// <summary>A constant as an initializer. mode 0: TFLite layout; 1: 4-D permuted to NCHW; 2: padded to 4-D then NCHW.</summary>
    private string Constant(int tensor, int mode)
    {
        if (_constants.TryGetValue((tensor, mode), out var name)) return name;
        var t = _model.Tensors[tensor];
        var shape = t.Shape;
        if (mode == 2) shape = PadShapeTo4(shape);
        bool permute = mode != 0 && shape.Length == 4;
        var dims = ToLongs(permute ? [shape[0], shape[3], shape[1], shape[2]] : shape);
        int type = OnnxType(t);
        if (type == OnnxElementType.Float)
        {
            var values = Dequantize(t);
            if (permute) values = Permute(values, shape, [0, 3, 1, 2]);
            name = _g.AddFloats(ConstantHint(t), values, dims);
        }
        else
        {
            int size = t.Data.Length / Math.Max(1, ElementCount(shape));
            byte[] raw = t.Data.ToArray();
            if (permute) raw = PermuteBytes(raw, size, shape, [0, 3, 1, 2]);
            name = _g.AddRaw(ConstantHint(t), type, raw, dims);
        }
        _constants[(tensor, mode)] = name;
        return name;
    }

    private TfLiteTensor ConstantTensor(int tensor, string what)
    {
        if (tensor < 0) throw new NotSupportedException($"{what} input is absent");
        var t = _model.Tensors[_constantAlias[tensor]];
        return t.IsConstant ? t : throw new NotSupportedException($"{what} must be a constant tensor");
    }

    private static string ConstantHint(TfLiteTensor t) => Sanitize(t.Name);

    private int OnnxType(TfLiteTensor t)
    {
        if (_model.Inputs.Contains(t.Index)) return OnnxElementType.Float;
        return t.Type switch
        {
            TfLiteTensorType.Float32 or TfLiteTensorType.Float16 or TfLiteTensorType.Float64 => OnnxElementType.Float,
            _ when t.Quantization.IsPresent => OnnxElementType.Float,
            TfLiteTensorType.Int32 => OnnxElementType.Int32,
            TfLiteTensorType.Int64 => OnnxElementType.Int64,
            TfLiteTensorType.Bool => OnnxElementType.Bool,
            TfLiteTensorType.UInt8 => OnnxElementType.UInt8,
            TfLiteTensorType.Int8 => OnnxElementType.Int8,
            _ => throw new NotSupportedException($"tensor '{t.Name}' has type {t.Type}"),
        };
    }

    // ---- axis helpers ----

    /// <summary>Position of NHWC axis <paramref name="axis"/> in NCHW (rank 4 only).</summary>
    private static int NchwAxis(int axis, int rank) => rank != 4 ? axis : axis switch { 0 => 0, 1 => 2, 2 => 3, _ => 1 };

    /// <summary>Whether removing <paramref name="axes"/> from an NCHW tensor leaves the remaining axes in NHWC order.</summary>
    private static bool RemainingOrderMatches(int[] axes, int rank)
    {
        if (rank != 4) return true;
        int previous = -1;
        foreach (long nchwPosition in ToNchw)
        {
            int native = (int)nchwPosition;
            if (axes.Contains(native)) continue;
            if (native < previous) return false;
            previous = native;
        }
        return true;
    }

    private static long[] OnnxDims(int[] shape, bool nchw) =>
        nchw && shape.Length == 4 ? [shape[0], shape[3], shape[1], shape[2]] : ToLongs(shape);

    private static int[] PadShapeTo4(int[] shape)
    {
        if (shape.Length >= 4) return shape;
        var padded = new int[4];
        Array.Fill(padded, 1);
        shape.CopyTo(padded, 4 - shape.Length);
        return padded;
    }

    private static long[] ToLongs(int[] values) => Array.ConvertAll(values, v => (long)v);

    private static int ElementCount(int[] shape)
    {
        int n = 1;
        foreach (int d in shape) n *= d;
        return n;
    }

    // ---- data ----

    /// <summary>Integer constant contents (shapes, axes, paddings) as int32.</summary>
    internal static int[] ReadInts(TfLiteTensor t)
    {
        var span = t.Data.Span;
        return t.Type switch
        {
            TfLiteTensorType.Int32 => MemoryMarshal.Cast<byte, int>(span).ToArray(),
            TfLiteTensorType.Int64 => Array.ConvertAll(MemoryMarshal.Cast<byte, long>(span).ToArray(), v => checked((int)v)),
            _ => throw new NotSupportedException($"constant '{t.Name}' should be int32 or int64, not {t.Type}"),
        };
    }

    /// <summary>Real values of a constant: (q - zero_point) * scale, per tensor or per channel along the quantized dimension.</summary>
    internal static float[] Dequantize(TfLiteTensor t)
    {
        var span = t.Data.Span;
        int count = ElementCount(t.Shape);
        var result = new float[count];
        switch (t.Type)
        {
            case TfLiteTensorType.Float32: MemoryMarshal.Cast<byte, float>(span)[..count].CopyTo(result); return result;
            case TfLiteTensorType.Float16:
                var halves = MemoryMarshal.Cast<byte, Half>(span);
                for (int i = 0; i < count; i++) result[i] = (float)halves[i];
                return result;
        }

        var q = t.Quantization;
        int channels = q.Scale.Length;
        int inner = 1;
        if (channels > 1)
        {
            if (q.Dimension < 0 || q.Dimension >= t.Shape.Length || t.Shape[q.Dimension] != channels)
                throw new NotSupportedException($"per-channel quantization of '{t.Name}' does not match its shape");
            for (int d = q.Dimension + 1; d < t.Shape.Length; d++) inner *= t.Shape[d];
        }
        for (int i = 0; i < count; i++)
        {
            long raw = t.Type switch
            {
                TfLiteTensorType.UInt8 => span[i],
                TfLiteTensorType.Int8 => (sbyte)span[i],
                TfLiteTensorType.Int16 => MemoryMarshal.Cast<byte, short>(span)[i],
                TfLiteTensorType.Int32 => MemoryMarshal.Cast<byte, int>(span)[i],
                TfLiteTensorType.Int64 => MemoryMarshal.Cast<byte, long>(span)[i],
                TfLiteTensorType.Bool => span[i],
                _ => throw new NotSupportedException($"constant '{t.Name}' of type {t.Type} cannot be read as numbers"),
            };
            if (channels == 0) { result[i] = raw; continue; }
            int c = channels == 1 ? 0 : i / inner % channels;
            long zeroPoint = q.ZeroPoint.Length == 0 ? 0 : q.ZeroPoint[Math.Min(c, q.ZeroPoint.Length - 1)];
            result[i] = (float)((raw - zeroPoint) * (double)q.Scale[c]);
        }
        return result;
    }

    internal static float[] Permute(float[] data, int[] shape, int[] perm)
    {
        var bytes = MemoryMarshal.AsBytes(data.AsSpan()).ToArray();
        var permuted = PermuteBytes(bytes, sizeof(float), shape, perm);
        return MemoryMarshal.Cast<byte, float>(permuted).ToArray();
    }

    /// <summary>Transposes a dense C-ordered tensor of <paramref name="elementSize"/>-byte elements: output axis i is input axis perm[i].</summary>
    private static byte[] PermuteBytes(byte[] data, int elementSize, int[] shape, int[] perm)
    {
        int rank = shape.Length;
        var inStrides = new int[rank];
        for (int d = rank - 1, s = 1; d >= 0; s *= shape[d], d--) inStrides[d] = s;
        var outShape = new int[rank];
        for (int i = 0; i < rank; i++) outShape[i] = shape[perm[i]];
        var result = new byte[data.Length];
        var index = new int[rank];
        int count = ElementCount(shape);
        for (int o = 0; o < count; o++)
        {
            int source = 0;
            for (int i = 0; i < rank; i++) source += index[i] * inStrides[perm[i]];
            Buffer.BlockCopy(data, source * elementSize, result, o * elementSize, elementSize);
            for (int i = rank - 1; i >= 0; i--)
            {
                if (++index[i] < outShape[i]) break;
                index[i] = 0;
            }
        }
        return result;
    }
}
