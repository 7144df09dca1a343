using System.Runtime.InteropServices;
using Cleave.Models.Graph;
using Cleave.Models.Onnx;
using Cleave.Models.Splitting;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Cleave.Training.Onnx;

/// <summary>
/// An ONNX graph as a TorchSharp module: its floating-point weights become parameters (frozen or trainable) and
/// <see cref="Run"/> interprets the nodes in topological order with TorchSharp operations, so gradients flow through
/// the graph (into its parameters when trainable, into its inputs always). Unsupported operators are found when the
/// module is built and reported all at once (<see cref="UnsupportedOnnxOperatorsException"/>).
/// </summary>
public sealed class OnnxModule : nn.Module<Tensor, Tensor>
{
    // Inputs at these positions are learned weights; a floating initializer read anywhere else (scales of Resize,
    // bounds of Clip, BatchNormalization's running statistics, the 1/sqrt(d) of attention) stays a fixed buffer.
    private static readonly Dictionary<string, int[]> WeightPositions = new(StringComparer.Ordinal)
    {
        ["Conv"] = [1, 2], ["Gemm"] = [0, 1, 2], ["MatMul"] = [0, 1], ["BatchNormalization"] = [1, 2],
        ["LayerNormalization"] = [1, 2], ["Add"] = [0, 1], ["Sub"] = [0, 1], ["Mul"] = [0, 1], ["Gather"] = [0],
    };

    private readonly OnnxModel _model;
    private readonly long _opset;
    private readonly Dictionary<string, Tensor> _initializers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _parameterNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _lastUse = new(StringComparer.Ordinal);

    public OnnxModule(OnnxModel model, bool trainable = false, string name = "onnx") : base(name)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _opset = model.DefaultOpsetVersion;
        var problems = FindUnsupported(model);
        if (problems.Count > 0) throw new UnsupportedOnnxOperatorsException(problems);

        var graph = model.Graph;
        var usedNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (onnxName, proto) in graph.Initializers)
        {
            var value = OnnxTensorConverter.ToTorch(proto);
            string registered = UniqueName(onnxName, usedNames);
            if (IsWeight(graph, onnxName, value))
            {
                var parameter = new TorchSharp.Modules.Parameter(value, requires_grad: trainable);
                register_parameter(registered, parameter);
                _initializers[onnxName] = parameter;
                _parameterNames[registered] = onnxName;
            }
            else
            {
                register_buffer(registered, value);
                _initializers[onnxName] = value;
            }
        }
        foreach (var node in graph.Nodes)
            foreach (string input in node.Inputs)
                _lastUse[input] = node.Order;
        InputNames = graph.Inputs;
        OutputNames = graph.Outputs;
    }

    /// <summary>Reads an ONNX file.</summary>
    public static OnnxModule Load(string path, bool trainable = false) => new(OnnxModel.Load(path), trainable, Path.GetFileNameWithoutExtension(path));

    /// <summary>The head or the tail of a split folder (written by <c>cleave split</c>).</summary>
    public static OnnxModule FromSplit(string splitDirectory, SplitHalf half, bool trainable = false)
    {
        var manifest = SplitManifest.Load(Path.Combine(splitDirectory, "split.json"));
        string file = Path.Combine(splitDirectory, half == SplitHalf.Head ? manifest.HeadFile : manifest.TailFile);
        return new OnnxModule(OnnxModel.Load(file), trainable, half == SplitHalf.Head ? "head" : "tail");
    }

    /// <summary>Every operator problem of <paramref name="model"/>, one entry per kind, with node counts.</summary>
    public static IReadOnlyList<string> FindUnsupported(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in model.Graph.Nodes)
            foreach (string problem in OnnxOperators.Check(node, model.DefaultOpsetVersion))
                counts[problem] = counts.GetValueOrDefault(problem) + 1;
        return [.. counts.Select(c => c.Value == 1 ? c.Key : $"{c.Key} ({c.Value} nodes)")];
    }

    public OnnxModel Model => _model;

    /// <summary>Graph inputs a caller feeds, in the file's order.</summary>
    public IReadOnlyList<string> InputNames { get; }

    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>The ONNX initializer name behind each registered parameter name (registered names cannot hold dots).</summary>
    public IReadOnlyDictionary<string, string> ParameterOnnxNames => _parameterNames;

    /// <summary>Makes every weight trainable or frozen.</summary>
    public void SetTrainable(bool trainable)
    {
        foreach (var p in parameters()) p.requires_grad = trainable;
    }

    /// <summary>The single-input, first-output view (image classifiers, heads, tails).</summary>
    public override Tensor forward(Tensor input)
    {
        if (InputNames.Count != 1)
            throw new InvalidOperationException($"the graph has {InputNames.Count} inputs ({string.Join(", ", InputNames)}); call Run with each by name");
        return Run(new Dictionary<string, Tensor> { [InputNames[0]] = input }, [OutputNames[0]])[OutputNames[0]];
    }

    /// <summary>
    /// Runs the graph. Every graph input must be given; <paramref name="outputs"/> defaults to the graph's outputs and
    /// may name any intermediate tensor. The returned tensors belong to the caller.
    /// </summary>
    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyList<string>? outputs = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        outputs ??= OutputNames;
        var graph = _model.Graph;
        foreach (string name in InputNames)
        {
            if (!inputs.TryGetValue(name, out var given)) throw new ArgumentException($"graph input '{name}' was not given");
            CheckShape(name, given, graph.DeclaredType(name));
        }
        var wanted = new HashSet<string>(outputs, StringComparer.Ordinal);
        foreach (string o in wanted)
            if (!graph.Defines(o)) throw new ArgumentException($"the graph has no tensor named '{o}'");

        using var scope = NewDisposeScope();
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            if (wanted.All(values.ContainsKey)) break;
            var proto = node.Proto;
            var args = new Tensor?[proto.Input.Count];
            for (int i = 0; i < args.Length; i++)
            {
                string n = proto.Input[i];
                if (n.Length == 0) continue;
                args[i] = values.TryGetValue(n, out var v) ? v : _initializers.TryGetValue(n, out var init) ? init : inputs[n];
            }
            Tensor[] results;
            try { results = OnnxOperators.Run(proto, args, _opset); }
            catch (Exception e) when (e is ExternalException or ArgumentException or IndexOutOfRangeException)
            {
                // libtorch appends its C++ stack to the message: keep the first line.
                string reason = e.Message.Split('\n', 2)[0];
                throw new InvalidOperationException($"node {node} failed on inputs {Describe(proto, args)}: {reason}", e);
            }
            for (int i = 0; i < proto.Output.Count && i < results.Length; i++)
                if (proto.Output[i].Length > 0) values[proto.Output[i]] = results[i];
            // Free what no later node reads (autograd keeps its own references to what backward needs).
            foreach (string n in node.Inputs)
                if (_lastUse.GetValueOrDefault(n) == node.Order && !wanted.Contains(n) && values.Remove(n, out var dead)) dead.Dispose();
        }
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (string o in outputs)
        {
            var t = values.TryGetValue(o, out var v) ? v : _initializers.TryGetValue(o, out var init) ? init.alias() : inputs[o].alias();
            result[o] = t.MoveToOuterDisposeScope();
        }
        return result;
    }

    /// <summary>The graph with the current parameter values as initializers (a fine-tuned model, ready for ONNX Runtime).</summary>
    public ModelProto ToOnnx()
    {
        var copy = _model.Proto.Clone();
        foreach (var init in copy.Graph.Initializer)
            if (_initializers.TryGetValue(init.Name, out var value) && value is TorchSharp.Modules.Parameter)
            {
                var updated = OnnxTensorConverter.FromTorch(init.Name, value);
                init.RawData = updated.RawData;
                init.FloatData.Clear();
            }
        return copy;
    }

    private static void CheckShape(string name, Tensor given, TensorType? declared)
    {
        if (declared?.Dimensions is not { } dims) return;
        bool ok = dims.Count == given.dim();
        for (int i = 0; ok && i < dims.Count; i++)
            if (dims[i].Value is long fixedSize && fixedSize != given.shape[i]) ok = false;
        if (!ok)
            throw new ArgumentException($"input '{name}' has shape [{string.Join(",", given.shape)}], the graph declares {declared.ShapeText}");
    }

    private static string Describe(NodeProto proto, Tensor?[] args) =>
        string.Join(", ", args.Select((a, i) => $"{proto.Input[i]}[{(a is null ? "" : string.Join(",", a.shape))}]"));

    private static bool IsWeight(OnnxGraph graph, string name, Tensor value)
    {
        if (!value.is_floating_point() || value.numel() <= 1) return false;
        var consumers = graph.Consumers(name);
        if (consumers.Count == 0) return false;
        foreach (var node in consumers)
        {
            if (!WeightPositions.TryGetValue(node.OpType, out var positions)) return false;
            for (int i = 0; i < node.Proto.Input.Count; i++)
                if (node.Proto.Input[i] == name && !positions.Contains(i)) return false;
        }
        return true;
    }

    private static string UniqueName(string onnxName, HashSet<string> used)
    {
        var chars = onnxName.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray();
        string baseName = chars.Length == 0 ? "w" : new string(chars);
        string candidate = baseName;
        for (int i = 1; !used.Add(candidate); i++) candidate = $"{baseName}_{i}";
        return candidate;
    }
}

/// <summary>Which half of a split folder.</summary>
public enum SplitHalf
{
    Head,
    Tail,
}
