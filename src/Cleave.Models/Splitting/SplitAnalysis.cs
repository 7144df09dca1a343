using Cleave.Models.Graph;
using Cleave.Models.Onnx;
using Cleave.Models.Profiling;

namespace Cleave.Models.Splitting;

/// <summary>
/// Everything inspecting and splitting one model share: tensor roles under the chosen side inputs, the values of
/// symbolic dimensions, the structural candidate cuts, and tensor types (declared where complete, else probed by
/// running the model once, cached).
/// </summary>
public sealed class SplitAnalysis
{
    private readonly Dictionary<string, TensorType> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _sampleValues;
    private IReadOnlyList<FrontierCut>? _frontiers;

    public SplitAnalysis(OnnxModel model, SplitOptions? options = null)
    {
        Model = model;
        Options = options ?? new SplitOptions();
        Roles = new GraphRoles(model.Graph, SideInputPolicy.Resolve(model.Graph, Options.SideInputs));
        Symbols = DummyInputs.ResolveSymbols(model.Graph, Options.SymbolValues);
        _sampleValues = new Dictionary<string, long>(Symbols, StringComparer.Ordinal);
    }

    public OnnxModel Model { get; }
    public OnnxGraph Graph => Model.Graph;
    public SplitOptions Options { get; }
    public GraphRoles Roles { get; }

    /// <summary>Values of the symbolic input dimensions used for dummy inputs and per-sample sizes.</summary>
    public IReadOnlyDictionary<string, long> Symbols { get; }

    /// <summary>
    /// <see cref="Symbols"/> plus the sample values of symbolic dimensions the probe found inside the graph that follow
    /// no input symbol directly (e.g. a height halved by a strided convolution): what per-sample sizes and MACs use.
    /// </summary>
    public IReadOnlyDictionary<string, long> SampleValues => _sampleValues;

    public IReadOnlyList<FrontierCut> Frontiers => _frontiers ??= FrontierScanner.Scan(Roles, Options.MaxCutTensors);

    /// <summary>Makes sure the types of <paramref name="tensors"/> are known, probing in one run those the file leaves incomplete.</summary>
    public void EnsureTypes(IEnumerable<string> tensors)
    {
        var missing = new List<string>();
        foreach (string t in tensors)
        {
            if (_types.ContainsKey(t)) continue;
            if (Graph.DeclaredType(t) is { IsComplete: true } declared) _types[t] = declared;
            else if (Graph.Producer(t) is not null) missing.Add(t);
        }
        if (missing.Count == 0) return;
        var probed = TensorShapeProbe.Probe(Model, missing, Symbols, Options.IntraOpThreads);
        foreach (var (name, type) in probed.Types) _types[name] = type;
        foreach (var (symbol, value) in probed.DerivedSymbolValues) _sampleValues.TryAdd(symbol, value);
    }

    public TensorType TypeOf(string tensor)
    {
        if (!_types.ContainsKey(tensor)) EnsureTypes([tensor]);
        return _types.TryGetValue(tensor, out var type) ? type
            : Graph.DeclaredType(tensor) ?? throw new InvalidOperationException($"the type of tensor '{tensor}' is unknown");
    }

    /// <summary>Concrete dimensions per sample (symbols at <see cref="SampleValues"/>), or null when unknown.</summary>
    public long[]? ConcreteShape(string tensor)
    {
        if (_types.TryGetValue(tensor, out var type)) return type.ConcreteDimensions(_sampleValues);
        return Graph.DeclaredType(tensor)?.ConcreteDimensions(_sampleValues);
    }

    /// <summary>Bytes per sample of a set of tensors as float32.</summary>
    public long? BytesFp32(IEnumerable<string> tensors)
    {
        long total = 0;
        foreach (string t in tensors)
        {
            if (TypeOf(t).ElementCount(_sampleValues) is not long n) return null;
            total += n * 4;
        }
        return total;
    }

    /// <summary>Plans a cut; an invalid one throws <see cref="InvalidSplitException"/> with the nearest valid split points.</summary>
    public CutPlan Plan(IReadOnlyList<string> cutTensors)
    {
        try
        {
            return CutPlan.Create(Roles, cutTensors);
        }
        catch (InvalidSplitException e)
        {
            throw new InvalidSplitException(WithNameHints(e.Reason, cutTensors), NearestCandidates(cutTensors, 3));
        }
    }

    /// <summary>
    /// Valid cuts closest (in topological position) to the given tensors, as <c>--at</c> values: the nearest
    /// single-tensor split points, led by the nearest multi-tensor cut when one is strictly closer than all of them.
    /// Unknown names are placed at the closest-spelled tensor.
    /// </summary>
    public IReadOnlyList<string> NearestCandidates(IReadOnlyList<string> tensors, int count)
    {
        var order = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in Graph.Nodes)
            foreach (string o in node.Outputs) order[o] = node.Order;
        int? anchor = null;
        foreach (string t in tensors)
        {
            string? known = Graph.Defines(t) ? t : SimilarNames(t).FirstOrDefault();
            if (known is not null && order.TryGetValue(known, out int at)) anchor = Math.Max(anchor ?? 0, at);
        }
        int target = anchor ?? 0;
        int Distance(FrontierCut f) => Math.Abs(f.Tensors.Max(t => order.GetValueOrDefault(t)) - target);

        var singles = Frontiers.Where(f => !f.IsMultiTensor).OrderBy(Distance).Take(count).ToList();
        var result = singles.Select(f => string.Join(",", f.Tensors)).ToList();
        int nearestSingle = singles.Count > 0 ? Distance(singles[0]) : int.MaxValue;
        var multi = Frontiers.Where(f => f.IsMultiTensor && Distance(f) < nearestSingle).OrderBy(Distance).ThenBy(f => f.Tensors.Count).FirstOrDefault();
        if (multi is not null) result.Insert(0, string.Join(",", multi.Tensors));
        return result;
    }

    private IEnumerable<string> SimilarNames(string name) =>
        Graph.TensorNames()
            .Select(n => (name: n, d: EditDistance(name, n)))
            .Where(x => x.d <= Math.Max(2, name.Length / 3))
            .OrderBy(x => x.d).Take(3).Select(x => x.name);

    private string WithNameHints(string reason, IReadOnlyList<string> tensors)
    {
        foreach (string t in tensors)
        {
            if (Graph.Defines(t)) continue;
            var close = SimilarNames(t).ToList();
            if (close.Count > 0) reason += $" (did you mean {string.Join(" or ", close.Select(c => $"'{c}'"))}?)";
        }
        return reason;
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
