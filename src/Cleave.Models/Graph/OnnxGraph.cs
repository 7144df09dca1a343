using Cleave.Models.Onnx;
using Onnx;

namespace Cleave.Models.Graph;

/// <summary>
/// Read-only analysis of an ONNX graph: nodes in topological order, the producer and consumers of every tensor,
/// initializers, declared value types, and the real graph inputs (older exporters also list every initializer as a
/// graph input; those are initializers here, not inputs a caller must feed).
/// </summary>
public sealed class OnnxGraph
{
    private readonly Dictionary<string, GraphNode> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<GraphNode>> _consumers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorProto> _initializers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorType> _declaredTypes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _outputSet = new(StringComparer.Ordinal);

    public OnnxGraph(GraphProto graph)
    {
        Proto = graph;
        foreach (var init in graph.Initializer) _initializers[init.Name] = init;

        var inputs = new List<string>();
        var initializerInputs = new List<string>();
        foreach (var vi in graph.Input)
        {
            (_initializers.ContainsKey(vi.Name) ? initializerInputs : inputs).Add(vi.Name);
            if (TensorType.FromValueInfo(vi) is { } t) _declaredTypes[vi.Name] = t;
        }
        Inputs = inputs;
        InitializersListedAsInputs = initializerInputs;

        var outputs = new List<string>();
        foreach (var vi in graph.Output)
        {
            outputs.Add(vi.Name);
            _outputSet.Add(vi.Name);
            if (TensorType.FromValueInfo(vi) is { } t) _declaredTypes.TryAdd(vi.Name, t);
        }
        Outputs = outputs;
        foreach (var vi in graph.ValueInfo)
            if (TensorType.FromValueInfo(vi) is { } t) _declaredTypes.TryAdd(vi.Name, t);
        foreach (var init in graph.Initializer) _declaredTypes[init.Name] = TensorType.FromTensor(init);

        Nodes = SortTopologically(graph, _initializers, inputs);
        foreach (var node in Nodes)
        {
            foreach (string o in node.Outputs)
                if (!_producers.TryAdd(o, node))
                    throw new InvalidDataException($"tensor '{o}' is produced by two nodes ({_producers[o]} and {node}); ONNX graphs must be in SSA form");
            foreach (string i in node.Inputs)
            {
                if (!_consumers.TryGetValue(i, out var list)) _consumers[i] = list = [];
                if (list.Count == 0 || list[^1] != node) list.Add(node);
            }
            if (node.OpType == "Constant" && node.Proto.Domain is "" or "ai.onnx" && ConstantValue(node.Proto) is { } value)
                _declaredTypes.TryAdd(node.Outputs[0], TensorType.FromTensor(value));
        }
        foreach (string o in outputs)
            if (!_producers.ContainsKey(o) && !_initializers.ContainsKey(o) && !inputs.Contains(o))
                throw new InvalidDataException($"graph output '{o}' is produced by no node");
    }

    public GraphProto Proto { get; }

    /// <summary>Nodes in a topological order that keeps the file's order wherever the file's order is valid.</summary>
    public IReadOnlyList<GraphNode> Nodes { get; }

    /// <summary>Graph inputs a caller feeds (initializers excluded).</summary>
    public IReadOnlyList<string> Inputs { get; }

    /// <summary>Initializers that the file also lists as graph inputs (overridable defaults in old exporters).</summary>
    public IReadOnlyList<string> InitializersListedAsInputs { get; }

    public IReadOnlyList<string> Outputs { get; }

    public IReadOnlyDictionary<string, TensorProto> Initializers => _initializers;

    public bool IsInitializer(string tensor) => _initializers.ContainsKey(tensor);

    public bool IsGraphInput(string tensor) => Inputs.Contains(tensor);

    public bool IsGraphOutput(string tensor) => _outputSet.Contains(tensor);

    /// <summary>The node that writes <paramref name="tensor"/>, or null for graph inputs, initializers and unknown names.</summary>
    public GraphNode? Producer(string tensor) => _producers.GetValueOrDefault(tensor);

    public IReadOnlyList<GraphNode> Consumers(string tensor) =>
        _consumers.TryGetValue(tensor, out var list) ? list : [];

    /// <summary>True for any name the graph defines: an input, an initializer, or a node output.</summary>
    public bool Defines(string tensor) => _producers.ContainsKey(tensor) || _initializers.ContainsKey(tensor) || Inputs.Contains(tensor);

    /// <summary>Every tensor name the graph defines, in topological order (inputs, initializers, then node outputs).</summary>
    public IEnumerable<string> TensorNames()
    {
        foreach (string i in Inputs) yield return i;
        foreach (var init in Proto.Initializer) yield return init.Name;
        foreach (var node in Nodes)
            foreach (string o in node.Outputs) yield return o;
    }

    /// <summary>The type the file declares (input, output, value_info, initializer, Constant), if any.</summary>
    public TensorType? DeclaredType(string tensor) => _declaredTypes.GetValueOrDefault(tensor);

    /// <summary>Learned parameters: elements of floating-point initializers and floating-point Constant values.</summary>
    public long ParameterCount
    {
        get
        {
            long total = 0;
            foreach (var init in Proto.Initializer) total += ParameterElements(init);
            foreach (var node in Nodes)
                if (node.OpType == "Constant" && ConstantValue(node.Proto) is { } value) total += ParameterElements(value);
            return total;
        }
    }

    /// <summary>Elements of a tensor if it holds floating-point values (learned weights), else 0 (shapes, indices).</summary>
    public static long ParameterElements(TensorProto tensor)
    {
        if (!OnnxElementType.IsFloatingPoint(tensor.DataType)) return 0;
        long n = 1;
        foreach (long d in tensor.Dims) n *= d;
        return n;
    }

    /// <summary>The tensor a Constant node holds in its <c>value</c> attribute, or null for other forms.</summary>
    public static TensorProto? ConstantValue(NodeProto node)
    {
        foreach (var a in node.Attribute)
            if (a.Name == "value" && a.T is not null) return a.T;
        return null;
    }

    private static List<GraphNode> SortTopologically(GraphProto graph, Dictionary<string, TensorProto> initializers, List<string> inputs)
    {
        int n = graph.Node.Count;
        var nodeInputs = new List<string>[n];
        var producerIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
            foreach (string o in graph.Node[i].Output)
                if (o.Length > 0) producerIndex.TryAdd(o, i);

        var available = new HashSet<string>(inputs, StringComparer.Ordinal);
        available.UnionWith(initializers.Keys);
        var waiting = new int[n];
        var dependents = new List<int>[n];
        for (int i = 0; i < n; i++)
        {
            nodeInputs[i] = InputsOf(graph.Node[i]);
            foreach (string input in nodeInputs[i])
            {
                if (producerIndex.TryGetValue(input, out int p) && !available.Contains(input))
                {
                    if (p == i) throw new InvalidDataException($"node {NodeLabel(graph.Node[i], i)} reads its own output '{input}'");
                    waiting[i]++;
                    (dependents[p] ??= []).Add(i);
                }
                else if (!available.Contains(input) && !producerIndex.ContainsKey(input))
                {
                    throw new InvalidDataException($"node {NodeLabel(graph.Node[i], i)} reads '{input}', which no node, input or initializer defines");
                }
            }
        }

        // Kahn's algorithm with the file position as priority: files that are already sorted keep their order.
        var ready = new PriorityQueue<int, int>();
        for (int i = 0; i < n; i++)
            if (waiting[i] == 0) ready.Enqueue(i, i);
        var sorted = new List<GraphNode>(n);
        while (ready.TryDequeue(out int i, out _))
        {
            var proto = graph.Node[i];
            var outputs = new List<string>(proto.Output.Count);
            foreach (string o in proto.Output)
                if (o.Length > 0) outputs.Add(o);
            sorted.Add(new GraphNode(sorted.Count, proto, nodeInputs[i], outputs));
            if (dependents[i] is { } deps)
                foreach (int d in deps)
                    if (--waiting[d] == 0) ready.Enqueue(d, d);
        }
        if (sorted.Count != n)
            throw new InvalidDataException($"the graph has a cycle: {n - sorted.Count} of {n} nodes can never run");
        return sorted;
    }

    /// <summary>A node's inputs plus the outer-scope tensors its subgraph attributes read, without duplicates.</summary>
    private static List<string> InputsOf(NodeProto node)
    {
        var result = new List<string>(node.Input.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string i in node.Input)
            if (i.Length > 0 && seen.Add(i)) result.Add(i);
        foreach (var a in node.Attribute)
        {
            if (a.G is not null) AddCaptures(a.G, seen, result);
            foreach (var g in a.Graphs) AddCaptures(g, seen, result);
        }
        return result;
    }

    private static void AddCaptures(GraphProto subgraph, HashSet<string> seen, List<string> result)
    {
        var local = new HashSet<string>(StringComparer.Ordinal);
        foreach (var i in subgraph.Input) local.Add(i.Name);
        foreach (var i in subgraph.Initializer) local.Add(i.Name);
        foreach (var node in subgraph.Node)
            foreach (string o in node.Output) local.Add(o);
        foreach (var node in subgraph.Node)
            foreach (string i in InputsOf(node))
                if (!local.Contains(i) && seen.Add(i)) result.Add(i);
        foreach (var o in subgraph.Output)
            if (!local.Contains(o.Name) && seen.Add(o.Name)) result.Add(o.Name);
    }

    private static string NodeLabel(NodeProto node, int index) => node.Name.Length > 0 ? $"'{node.Name}' ({node.OpType})" : $"#{index} ({node.OpType})";
}
