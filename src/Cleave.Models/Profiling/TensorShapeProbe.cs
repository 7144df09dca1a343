using Cleave.Models.Graph;
using Cleave.Models.Onnx;
using Google.Protobuf;
using Onnx;

namespace Cleave.Models.Profiling;

/// <summary>
/// Learns the types and shapes of intermediate tensors by running the model: the wanted tensors are added as extra
/// graph outputs and the model runs once on dummy inputs (exact, and cheap next to writing shape inference for every
/// operator). When the inputs have symbolic dimensions it runs a second time with every symbol multiplied by its own
/// whole factor (which keeps sizes that must divide by a stride or a patch size valid): dimensions that change are symbolic, named after the
/// input symbol whose value they follow (e.g. the batch dimension), else <c>&lt;tensor&gt;_dim&lt;axis&gt;</c> with
/// its first-run value reported in <see cref="ShapeProbeResult.DerivedSymbolValues"/>.
/// </summary>
public static class TensorShapeProbe
{
    public static ShapeProbeResult Probe(OnnxModel model, IEnumerable<string> tensors,
        IReadOnlyDictionary<string, long> symbols, int intraOpThreads = 0)
    {
        var graph = model.Graph;
        var wanted = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string t in tensors)
            if (seen.Add(t) && graph.Producer(t) is not null) wanted.Add(t);
        var result = new Dictionary<string, TensorType>(StringComparer.Ordinal);
        var derived = new Dictionary<string, long>(StringComparer.Ordinal);
        if (wanted.Count == 0) return new ShapeProbeResult(result, derived);

        var probeModel = model.Proto.Clone();
        var existing = new HashSet<string>(graph.Outputs, StringComparer.Ordinal);
        foreach (string t in wanted)
            if (!existing.Contains(t)) probeModel.Graph.Output.Add(new ValueInfoProto { Name = t });
        byte[] bytes = probeModel.ToByteArray();

        using var runner = new OrtModelRunner(bytes, intraOpThreads);
        Dictionary<string, HostTensor> first;
        try { first = runner.Run(DummyInputs.Create(graph, symbols), wanted); }
        catch (InvalidOperationException e) when (symbols.Count > 0)
        {
            throw new InvalidOperationException(
                $"running the model on dummy inputs to learn tensor shapes failed with symbolic dimensions " +
                $"{string.Join(", ", symbols.Select(s => $"{s.Key}={s.Value}"))}; choose values the model accepts (--dims): {e.Message}", e);
        }

        Dictionary<string, HostTensor>? second = null;
        var bumped = new Dictionary<string, long>(StringComparer.Ordinal);
        // Each symbol gets its own factor (2, 3, 4, ...), so symbols that share a first-run value (a square image's height
        // and width) still tell apart in the second run; whole factors keep stride- and patch-divisibility.
        int factor = 2;
        foreach (var (symbol, value) in symbols) bumped[symbol] = value * factor++;
        if (symbols.Count > 0)
        {
            // A model that hard-codes its batch size fails here; its dimensions are then taken as fixed.
            try { second = runner.Run(DummyInputs.Create(graph, bumped), wanted); }
            catch (InvalidOperationException) { second = null; }
        }

        foreach (string t in wanted)
        {
            var a = first[t];
            var dims = new TensorDimension[a.Shape.Length];
            for (int axis = 0; axis < dims.Length; axis++)
            {
                long v = a.Shape[axis];
                if (second is null || second[t].Shape.Length != a.Shape.Length || second[t].Shape[axis] == v)
                {
                    dims[axis] = TensorDimension.Fixed(v);
                    continue;
                }
                long w = second[t].Shape[axis];
                string? symbol = null;
                foreach (var (name, value) in symbols)
                    if (value == v && bumped[name] == w) { symbol = name; break; }
                if (symbol is null)
                {
                    symbol = $"{t}_dim{axis}";
                    derived[symbol] = v;
                }
                dims[axis] = TensorDimension.Named(symbol);
            }
            result[t] = new TensorType(a.ElementType, dims);
        }
        return new ShapeProbeResult(result, derived);
    }
}

/// <summary>Probed tensor types, and the sample values of symbolic dimensions that follow no input symbol directly.</summary>
public sealed record ShapeProbeResult(IReadOnlyDictionary<string, TensorType> Types, IReadOnlyDictionary<string, long> DerivedSymbolValues);
