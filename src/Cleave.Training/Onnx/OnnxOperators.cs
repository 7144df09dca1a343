using Cleave.Models.Graph;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Cleave.Training.Onnx;

/// <summary>
/// The ONNX operators <see cref="OnnxModule"/> runs, each written with TorchSharp operations so that gradients flow
/// through them. Semantics follow the ONNX operator specification for the opset the model imports; settings that
/// are not implemented are reported by <see cref="Check"/> before anything runs.
/// </summary>
internal static class OnnxOperators
{
    /// <summary>Operator types this interpreter knows (default ONNX domain).</summary>
    public static readonly IReadOnlySet<string> Supported = new HashSet<string>(StringComparer.Ordinal)
    {
        "Conv", "BatchNormalization", "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Gelu",
        "Erf", "Exp", "Log", "Sqrt", "Neg", "Abs", "Reciprocal", "Floor", "Ceil", "Pow",
        "Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Equal", "Less", "Greater", "Not", "Where",
        "MatMul", "Gemm", "MaxPool", "AveragePool", "GlobalAveragePool", "ReduceMean", "ReduceSum", "ReduceMax",
        "Softmax", "LogSoftmax", "LayerNormalization", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze",
        "Concat", "Split", "Slice", "Gather", "Shape", "Cast", "Constant", "ConstantOfShape", "Identity", "Dropout",
        "Pad", "Resize", "ArgMax", "Expand", "Range",
    };

    /// <summary>Problems with one node (empty when it can run).</summary>
    public static IEnumerable<string> Check(GraphNode node, long opset)
    {
        var p = node.Proto;
        if (p.Domain is not ("" or "ai.onnx")) { yield return $"{p.OpType} (domain '{p.Domain}')"; yield break; }
        if (!Supported.Contains(p.OpType)) { yield return p.OpType; yield break; }
        var a = new NodeAttributes(p);
        switch (p.OpType)
        {
            case "Conv":
                if (a.Ints("kernel_shape") is { Length: not 2 and not 1 } k) yield return $"Conv {node.DisplayName}: {k.Length}-D convolution";
                break;
            case "MaxPool" or "AveragePool":
                if (a.Ints("kernel_shape") is { Length: not 2 } pk) yield return $"{p.OpType} {node.DisplayName}: {pk.Length}-D pooling";
                if (a.Int("storage_order", 0) != 0) yield return $"MaxPool {node.DisplayName}: storage_order=1";
                if (p.Output.Count > 1 && p.Output[1].Length > 0) yield return $"MaxPool {node.DisplayName}: the Indices output";
                break;
            case "Resize":
                string mode = a.String("mode", "nearest");
                string ctm = a.String("coordinate_transformation_mode", "half_pixel");
                if (mode == "cubic") yield return $"Resize {node.DisplayName}: mode=cubic";
                if (mode == "linear" && ctm is not ("half_pixel" or "pytorch_half_pixel" or "align_corners"))
                    yield return $"Resize {node.DisplayName}: linear with coordinate_transformation_mode={ctm}";
                if (mode == "nearest" && ctm != "asymmetric")
                    yield return $"Resize {node.DisplayName}: nearest with coordinate_transformation_mode={ctm}";
                if (a.Int("antialias", 0) != 0) yield return $"Resize {node.DisplayName}: antialias";
                if (a.Ints("axes") is { } axes && !axes.SequenceEqual([2L, 3L]) && !axes.SequenceEqual([-2L, -1L]))
                    yield return $"Resize {node.DisplayName}: axes other than the spatial ones";
                break;
            case "Pad":
                if (a.String("mode", "constant") is not ("constant" or "reflect" or "edge") and var m) yield return $"Pad {node.DisplayName}: mode={m}";
                break;
            case "ArgMax":
                if (a.Int("select_last_index", 0) != 0) yield return $"ArgMax {node.DisplayName}: select_last_index";
                break;
        }
    }

    public static Tensor[] Run(NodeProto node, Tensor?[] x, long opset)
    {
        var a = new NodeAttributes(node);
        return node.OpType switch
        {
            "Conv" => [Conv(x[0]!, x[1]!, At(x, 2), a)],
            "BatchNormalization" => [BatchNorm(x[0]!, x[1]!, x[2]!, x[3]!, x[4]!, a.Float("epsilon", 1e-5f))],
            "Relu" => [F.relu(x[0]!)],
            "Clip" => [Clip(x, a, opset)],
            "LeakyRelu" => [F.leaky_relu(x[0]!, a.Float("alpha", 0.01f))],
            "Sigmoid" => [x[0]!.sigmoid()],
            "HardSigmoid" => [(x[0]! * a.Float("alpha", 0.2f) + a.Float("beta", 0.5f)).clamp(0, 1)],
            "HardSwish" => [F.hardswish(x[0]!)],
            "Tanh" => [x[0]!.tanh()],
            "Gelu" => [a.String("approximate", "none") == "tanh" ? GeluTanh(x[0]!) : F.gelu(x[0]!)],
            "Erf" => [x[0]!.erf()],
            "Exp" => [x[0]!.exp()],
            "Log" => [x[0]!.log()],
            "Sqrt" => [x[0]!.sqrt()],
            "Neg" => [x[0]!.neg()],
            "Abs" => [x[0]!.abs()],
            "Reciprocal" => [x[0]!.reciprocal()],
            "Floor" => [x[0]!.floor()],
            "Ceil" => [x[0]!.ceil()],
            "Pow" => [x[0]!.pow(x[1]!)],
            "Add" => [x[0]! + x[1]!],
            "Sub" => [x[0]! - x[1]!],
            "Mul" => [x[0]! * x[1]!],
            "Div" => [x[0]!.is_floating_point() ? x[0]! / x[1]! : x[0]!.div(x[1]!, RoundingMode.trunc)],
            "Max" => [Fold(x, (l, r) => maximum(l, r))],
            "Min" => [Fold(x, (l, r) => minimum(l, r))],
            "Sum" => [Fold(x, (l, r) => l + r)],
            "Equal" => [x[0]!.eq(x[1]!)],
            "Less" => [x[0]!.lt(x[1]!)],
            "Greater" => [x[0]!.gt(x[1]!)],
            "Not" => [x[0]!.logical_not()],
            "Where" => [where(x[0]!, x[1]!, x[2]!)],
            "MatMul" => [matmul(x[0]!, x[1]!)],
            "Gemm" => [Gemm(x[0]!, x[1]!, At(x, 2), a)],
            "MaxPool" => [Pool(x[0]!, a, max: true)],
            "AveragePool" => [Pool(x[0]!, a, max: false)],
            "GlobalAveragePool" => [x[0]!.mean(Enumerable.Range(2, (int)x[0]!.dim() - 2).Select(i => (long)i).ToArray(), keepdim: true)],
            "ReduceMean" or "ReduceSum" or "ReduceMax" => [Reduce(node.OpType, x, a, opset)],
            "Softmax" => [SoftmaxLike(x[0]!, a, opset, log: false)],
            "LogSoftmax" => [SoftmaxLike(x[0]!, a, opset, log: true)],
            "LayerNormalization" => [LayerNorm(x[0]!, x[1]!, At(x, 2), a)],
            "Reshape" => [Reshape(x[0]!, Longs(x[1]!), a.Int("allowzero", 0) != 0)],
            "Flatten" => [Flatten(x[0]!, a.Int("axis", 1))],
            "Transpose" => [x[0]!.permute(a.Ints("perm") ?? Enumerable.Range(0, (int)x[0]!.dim()).Reverse().Select(i => (long)i).ToArray())],
            "Squeeze" => [Squeeze(x[0]!, opset >= 13 ? (At(x, 1) is { } s ? Longs(s) : null) : a.Ints("axes"))],
            "Unsqueeze" => [Unsqueeze(x[0]!, opset >= 13 ? Longs(x[1]!) : a.Ints("axes")!)],
            "Concat" => [cat(x.Where(t => t is not null).Select(t => t!).ToArray(), a.Int("axis", 0))],
            "Split" => Split(node, x, a, opset),
            "Slice" => [Slice(x, a, opset)],
            "Gather" => [Gather(x[0]!, x[1]!, a.Int("axis", 0))],
            "Shape" => [ShapeOf(x[0]!, a)],
            "Cast" => [x[0]!.to_type(OnnxTensorConverter.ScalarTypeOf((int)a.Int("to", 1)))],
            "Constant" => [ConstantValue(a)],
            "ConstantOfShape" => [ConstantOfShape(x[0]!, a)],
            "Identity" or "Dropout" => node.Output.Count > 1 && node.OpType == "Dropout"
                ? [x[0]!.alias(), ones_like(x[0]!, dtype: ScalarType.Bool)] : [x[0]!.alias()],
            "Pad" => [Pad(x, a, opset)],
            "Resize" => [Resize(x, a)],
            "ArgMax" => [x[0]!.argmax(a.Int("axis", 0), keepdim: a.Int("keepdims", 1) != 0)],
            "Expand" => [Expand(x[0]!, Longs(x[1]!))],
            "Range" => [arange(x[0]!.item<long>(), x[1]!.item<long>(), x[2]!.item<long>(), dtype: x[0]!.dtype)],
            _ => throw new UnsupportedOnnxOperatorsException([node.OpType]),
        };
    }

    private static Tensor GeluTanh(Tensor x) =>
        0.5 * x * (1 + ((x + 0.044715 * x.pow(3)) * Math.Sqrt(2 / Math.PI)).tanh());

    private static Tensor? At(Tensor?[] x, int i) => i < x.Length ? x[i] : null;

    private static long[] Longs(Tensor t) => t.to_type(ScalarType.Int64).cpu().data<long>().ToArray();

    private static Tensor Fold(Tensor?[] x, Func<Tensor, Tensor, Tensor> op)
    {
        Tensor acc = x[0]!;
        for (int i = 1; i < x.Length; i++) acc = op(acc, x[i]!);
        return acc;
    }

    private static Tensor Conv(Tensor input, Tensor weight, Tensor? bias, NodeAttributes a)
    {
        int spatial = (int)input.dim() - 2;
        long[] kernel = a.Ints("kernel_shape") ?? weight.shape[2..];
        long[] strides = a.Ints("strides") ?? Repeat(1, spatial);
        long[] dilations = a.Ints("dilations") ?? Repeat(1, spatial);
        long groups = a.Int("group", 1);
        long[] pads = ResolvePads(input, kernel, strides, dilations, a);
        if (spatial == 1)
        {
            var padded1 = pads[0] == pads[1] ? input : F.pad(input, [pads[0], pads[1]]);
            return F.conv1d(padded1, weight, bias, strides[0], pads[0] == pads[1] ? pads[0] : 0, dilations[0], groups);
        }
        bool symmetric = pads[0] == pads[2] && pads[1] == pads[3];
        var padded = symmetric ? input : F.pad(input, [pads[1], pads[3], pads[0], pads[2]]);
        long[] padding = symmetric ? [pads[0], pads[1]] : [0, 0];
        return F.conv2d(padded, weight, bias, strides, padding, dilations, groups);
    }

    /// <summary>ONNX pads [begin..., end...], with auto_pad resolved against the input's spatial size.</summary>
    private static long[] ResolvePads(Tensor input, long[] kernel, long[] strides, long[] dilations, NodeAttributes a)
    {
        int spatial = kernel.Length;
        string autoPad = a.String("auto_pad", "NOTSET");
        if (autoPad is "NOTSET" or "") return a.Ints("pads") ?? Repeat(0, 2 * spatial);
        var pads = new long[2 * spatial];
        if (autoPad == "VALID") return pads;
        for (int i = 0; i < spatial; i++)
        {
            long size = input.shape[2 + i];
            long output = (size + strides[i] - 1) / strides[i];
            long total = Math.Max(0, (output - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size);
            long small = total / 2, large = total - small;
            (pads[i], pads[i + spatial]) = autoPad == "SAME_UPPER" ? (small, large) : (large, small);
        }
        return pads;
    }

    private static long[] Repeat(long value, int count) => Enumerable.Repeat(value, count).ToArray();

    private static Tensor BatchNorm(Tensor x, Tensor scale, Tensor bias, Tensor mean, Tensor variance, float epsilon)
    {
        // Inference form with the stored statistics: training adapts scale and bias, never the running statistics,
        // so a trained module exports to the same ONNX node.
        long[] shape = [1, -1, .. Repeat(1, (int)x.dim() - 2)];
        var inv = (variance + epsilon).rsqrt();
        return (x - mean.reshape(shape)) * (inv * scale).reshape(shape) + bias.reshape(shape);
    }

    private static Tensor Clip(Tensor?[] x, NodeAttributes a, long opset)
    {
        if (opset < 11) return x[0]!.clamp(a.Float("min", float.MinValue), a.Float("max", float.MaxValue));
        Tensor? min = At(x, 1), max = At(x, 2);
        if (min is null && max is null) return x[0]!.alias();
        if (min is not null && max is not null) return x[0]!.clamp(min.item<float>(), max.item<float>());
        return min is not null ? x[0]!.clamp_min(min.item<float>()) : x[0]!.clamp_max(max!.item<float>());
    }

    private static Tensor Gemm(Tensor a, Tensor b, Tensor? c, NodeAttributes attrs)
    {
        if (attrs.Int("transA", 0) != 0) a = a.t();
        if (attrs.Int("transB", 0) != 0) b = b.t();
        float alpha = attrs.Float("alpha", 1f), beta = attrs.Float("beta", 1f);
        var y = matmul(a, b);
        if (alpha != 1f) y = y * alpha;
        if (c is not null) y = y + (beta == 1f ? c : c * beta);
        return y;
    }

    private static Tensor Pool(Tensor x, NodeAttributes a, bool max)
    {
        long[] kernel = a.Ints("kernel_shape")!;
        long[] strides = a.Ints("strides") ?? Repeat(1, kernel.Length);
        long[] dilations = a.Ints("dilations") ?? Repeat(1, kernel.Length);
        long[] pads = ResolvePads(x, kernel, strides, dilations, a);
        bool ceil = a.Int("ceil_mode", 0) != 0;
        bool symmetric = pads[0] == pads[2] && pads[1] == pads[3] && pads[0] <= kernel[0] / 2 && pads[1] <= kernel[1] / 2;
        if (max)
        {
            if (!symmetric) { x = F.pad(x, [pads[1], pads[3], pads[0], pads[2]], value: double.NegativeInfinity); pads = [0, 0, 0, 0]; }
            return F.max_pool2d(x, kernel, strides, [pads[0], pads[1]], dilations, ceil);
        }
        bool includePad = a.Int("count_include_pad", 0) != 0;
        if (!symmetric)
        {
            if (!includePad)
            {
                // Average of the real cells only: divide the zero-padded sum by the pooled count of real cells.
                var padded = F.pad(x, [pads[1], pads[3], pads[0], pads[2]]);
                var ones = F.pad(ones_like(x[..1, ..1]), [pads[1], pads[3], pads[0], pads[2]]);
                return F.avg_pool2d(padded, kernel, strides, ceil_mode: ceil) / F.avg_pool2d(ones, kernel, strides, ceil_mode: ceil);
            }
            x = F.pad(x, [pads[1], pads[3], pads[0], pads[2]]);
            pads = [0, 0, 0, 0];
        }
        return F.avg_pool2d(x, kernel, strides, [pads[0], pads[1]], ceil, includePad);
    }

    private static Tensor Reduce(string op, Tensor?[] x, NodeAttributes a, long opset)
    {
        // Axes moved from an attribute to an input: ReduceSum at opset 13, the others at 18.
        bool axesAsInput = op == "ReduceSum" ? opset >= 13 : opset >= 18;
        long[]? axes = axesAsInput ? (At(x, 1) is { } t ? Longs(t) : null) : a.Ints("axes");
        bool keep = a.Int("keepdims", 1) != 0;
        if (axes is null || axes.Length == 0)
        {
            if (a.Int("noop_with_empty_axes", 0) != 0) return x[0]!.alias();
            axes = Enumerable.Range(0, (int)x[0]!.dim()).Select(i => (long)i).ToArray();
        }
        return op switch
        {
            "ReduceMean" => x[0]!.mean(axes, keep),
            "ReduceSum" => x[0]!.sum(axes, keep),
            _ => x[0]!.amax(axes, keep),
        };
    }

    private static Tensor SoftmaxLike(Tensor x, NodeAttributes a, long opset, bool log)
    {
        if (opset >= 13)
        {
            long axis = a.Int("axis", -1);
            return log ? x.log_softmax(axis) : x.softmax(axis);
        }
        // Before opset 13 the input is coerced to 2-D at axis (default 1) and normalised over the second dimension.
        long ax = a.Int("axis", 1);
        if (ax < 0) ax += x.dim();
        var flat = Flatten(x, ax);
        var y = log ? flat.log_softmax(1) : flat.softmax(1);
        return y.reshape(x.shape);
    }

    private static Tensor LayerNorm(Tensor x, Tensor scale, Tensor? bias, NodeAttributes a)
    {
        long axis = a.Int("axis", -1);
        if (axis < 0) axis += x.dim();
        long[] normalized = x.shape[(int)axis..];
        return F.layer_norm(x, normalized, scale, bias, a.Float("epsilon", 1e-5f));
    }

    private static Tensor Reshape(Tensor x, long[] shape, bool allowZero)
    {
        var target = (long[])shape.Clone();
        if (!allowZero)
            for (int i = 0; i < target.Length; i++)
                if (target[i] == 0) target[i] = x.shape[i];
        return x.reshape(target);
    }

    private static Tensor Flatten(Tensor x, long axis)
    {
        if (axis < 0) axis += x.dim();
        long outer = 1;
        for (int i = 0; i < axis; i++) outer *= x.shape[i];
        return x.reshape(outer, -1);
    }

    private static Tensor Squeeze(Tensor x, long[]? axes)
    {
        if (axes is null) return x.squeeze();
        var y = x;
        foreach (long axis in axes.Select(v => v < 0 ? v + x.dim() : v).OrderDescending()) y = y.squeeze(axis);
        return y;
    }

    private static Tensor Unsqueeze(Tensor x, long[] axes)
    {
        long rank = x.dim() + axes.Length;
        var y = x;
        foreach (long axis in axes.Select(v => v < 0 ? v + rank : v).Order()) y = y.unsqueeze(axis);
        return y;
    }

    private static Tensor[] Split(NodeProto node, Tensor?[] x, NodeAttributes a, long opset)
    {
        long axis = a.Int("axis", 0);
        var input = x[0]!;
        if (axis < 0) axis += input.dim();
        long[]? sizes = opset >= 13 ? (At(x, 1) is { } s ? Longs(s) : null) : a.Ints("split");
        int parts = node.Output.Count;
        if (sizes is null)
        {
            long length = input.shape[axis], each = (length + parts - 1) / parts;
            sizes = Enumerable.Range(0, parts).Select(i => Math.Min(each, length - each * i)).ToArray();
        }
        return input.split(sizes, axis);
    }

    private static Tensor Slice(Tensor?[] x, NodeAttributes a, long opset)
    {
        var input = x[0]!;
        long[] starts = opset >= 10 ? Longs(x[1]!) : a.Ints("starts")!;
        long[] ends = opset >= 10 ? Longs(x[2]!) : a.Ints("ends")!;
        long[] axes = (opset >= 10 ? (At(x, 3) is { } ax ? Longs(ax) : null) : a.Ints("axes"))
                      ?? Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        long[] steps = (opset >= 10 && At(x, 4) is { } st ? Longs(st) : null) ?? Repeat(1, starts.Length);
        var y = input;
        for (int i = 0; i < axes.Length; i++)
        {
            long axis = axes[i] < 0 ? axes[i] + input.dim() : axes[i];
            long dim = input.shape[axis], step = steps[i];
            if (step <= 0) throw new NotSupportedException("Slice with a negative or zero step");
            long start = Clamp(starts[i] < 0 ? starts[i] + dim : starts[i], 0, dim);
            long end = Clamp(ends[i] < 0 ? ends[i] + dim : ends[i], 0, dim);
            y = end <= start ? y.narrow(axis, start, 0) : y.slice(axis, start, end, step);
        }
        return y;
    }

    private static long Clamp(long v, long lo, long hi) => Math.Min(Math.Max(v, lo), hi);

    private static Tensor Gather(Tensor data, Tensor indices, long axis)
    {
        if (axis < 0) axis += data.dim();
        var idx = indices.to_type(ScalarType.Int64);
        idx = where(idx < 0, idx + data.shape[axis], idx);
        var picked = data.index_select(axis, idx.flatten());
        long[] shape = [.. data.shape[..(int)axis], .. indices.shape, .. data.shape[((int)axis + 1)..]];
        return picked.reshape(shape);
    }

    private static Tensor ShapeOf(Tensor x, NodeAttributes a)
    {
        long rank = x.dim();
        long start = a.Int("start", 0), end = a.Int("end", rank);
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        start = Clamp(start, 0, rank);
        end = Clamp(end, 0, rank);
        return tensor(x.shape[(int)start..(int)Math.Max(start, end)]);
    }

    private static Tensor ConstantValue(NodeAttributes a)
    {
        if (a.Tensor("value") is { } t) return OnnxTensorConverter.ToTorch(t);
        if (a.Has("value_float")) return tensor(a.Float("value_float", 0));
        if (a.Has("value_int")) return tensor(a.Int("value_int", 0));
        if (a.Ints("value_ints") is { } ints) return tensor(ints);
        throw new NotSupportedException("Constant without a tensor, float or int value");
    }

    private static Tensor ConstantOfShape(Tensor shape, NodeAttributes a)
    {
        long[] dims = Longs(shape);
        if (a.Tensor("value") is { } t)
        {
            using var value = OnnxTensorConverter.ToTorch(t);
            return full(dims, value.flatten()[0].item<float>(), dtype: value.dtype);
        }
        return zeros(dims);
    }

    private static Tensor Pad(Tensor?[] x, NodeAttributes a, long opset)
    {
        var input = x[0]!;
        long[] pads = opset >= 11 ? Longs(x[1]!) : a.Ints("pads")!;
        double value = opset >= 11 ? (At(x, 2) is { } v ? v.to_type(ScalarType.Float64).item<double>() : 0) : a.Float("value", 0);
        int rank = (int)input.dim();
        if (opset >= 18 && At(x, 3) is { } axesTensor)
        {
            // Pads for the listed axes only: widen to every axis.
            long[] axes = Longs(axesTensor);
            var full = new long[2 * rank];
            for (int i = 0; i < axes.Length; i++)
            {
                long ax = axes[i] < 0 ? axes[i] + rank : axes[i];
                full[ax] = pads[i];
                full[ax + rank] = pads[i + axes.Length];
            }
            pads = full;
        }
        // torch lists (begin, end) pairs from the last axis backwards; trailing all-zero axes are dropped.
        int lastPadded = rank - 1;
        while (lastPadded > 0 && pads[lastPadded] == 0 && pads[lastPadded + rank] == 0) lastPadded--;
        var torchPads = new List<long>();
        for (int axis = rank - 1; axis >= 0; axis--) { torchPads.Add(pads[axis]); torchPads.Add(pads[axis + rank]); }
        string mode = a.String("mode", "constant");
        return mode switch
        {
            "reflect" => F.pad(input, [.. torchPads.Take(2 * (rank - 2))], PaddingModes.Reflect),
            "edge" => F.pad(input, [.. torchPads.Take(2 * (rank - 2))], PaddingModes.Replicate),
            _ => F.pad(input, [.. torchPads], PaddingModes.Constant, value),
        };
    }

    private static Tensor Resize(Tensor?[] x, NodeAttributes a)
    {
        var input = x[0]!;
        long[] size;
        int rank = (int)input.dim();
        // sizes/scales cover every axis, or only the spatial ones when the node lists axes (opset 18).
        if (At(x, 3) is { } sizes && sizes.numel() > 0)
        {
            long[] all = Longs(sizes);
            size = all.Length == rank ? all[2..] : all;
        }
        else
        {
            var scales = x[2]!.to_type(ScalarType.Float32).cpu().data<float>().ToArray();
            int offset = scales.Length == rank ? 2 : 0;
            size = [.. Enumerable.Range(0, rank - 2).Select(i => (long)Math.Floor(input.shape[2 + i] * scales[offset + i]))];
        }
        string mode = a.String("mode", "nearest");
        if (mode == "nearest") return F.interpolate(input, size, mode: InterpolationMode.Nearest);
        bool alignCorners = a.String("coordinate_transformation_mode", "half_pixel") == "align_corners";
        return F.interpolate(input, size, mode: size.Length == 1 ? InterpolationMode.Linear : InterpolationMode.Bilinear, align_corners: alignCorners);
    }

    private static Tensor Expand(Tensor x, long[] shape)
    {
        // ONNX Expand broadcasts both ways (a 1 in the shape keeps the input's size); torch's expand only grows.
        int rank = Math.Max((int)x.dim(), shape.Length);
        var target = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            long fromShape = i - (rank - shape.Length) >= 0 ? shape[i - (rank - shape.Length)] : 1;
            long fromInput = i - (rank - (int)x.dim()) >= 0 ? x.shape[i - (rank - (int)x.dim())] : 1;
            target[i] = fromShape == 1 ? fromInput : fromShape;
        }
        return x.expand(target);
    }
}
