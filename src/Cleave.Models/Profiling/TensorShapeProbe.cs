using Cleave.Models.Graph;
using Cleave.Models.Onnx;
using Google.Protobuf;
using Onnx;

namespace Cleave.Models.Profiling;

/// <summary>
/// Learns the types and shapes of intermediate tensors by running the model: the wanted tensors are added as extra
/// graph outputs and the model runs once on dummy inputs (exact, and cheap next to writing shape inference for every
/// operator). When the inputs have symbolic dimensions it runs a second time with each symbol one larger: dimensions
/// that change are symbolic, named after the input symbol whose value they follow (e.g. the batch dimension).
/// </summary>
public static class TensorShapeProbe
{
    public static Dictionary<string, TensorType> Probe(OnnxModel model, IEnumerable<string> tensors,
        IReadOnlyDictionary<string, long> symbols, int intraOpThreads = 0)
    {
        var graph = model.Graph;
        var wanted = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string t in tensors)
            if (seen.Add(t) && graph.Producer(t) is not null) wanted.Add(t);
        var result = new Dictionary<string, TensorType>(StringComparer.Ordinal);
        if (wanted.Count == 0) return result;

        var probeModel = model.Proto.Clone();
        var existing = new HashSet<string>(graph.Outputs, StringComparer.Ordinal);
        foreach (string t in wanted)
            if (!existing.Contains(t)) probeModel.Graph.Output.Add(new ValueInfoProto { Name = t });
        byte[] bytes = probeModel.ToByteArray();

        using var runner = new OrtModelRunner(bytes, intraOpThreads);
        var first = runner.Run(DummyInputs.Create(graph, symbols), wanted);

        Dictionary<string, HostTensor>? second = null;
        var bumped = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (symbol, value) in symbols) bumped[symbol] = value + 1;
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
                dims[axis] = TensorDimension.Named(symbol ?? $"{t}_dim{axis}");
            }
            result[t] = new TensorType(a.ElementType, dims);
        }
        return result;
    }
}
