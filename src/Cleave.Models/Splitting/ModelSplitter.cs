using Cleave.Models.Graph;
using Cleave.Models.Onnx;
using Google.Protobuf;
using Onnx;

namespace Cleave.Models.Splitting;

/// <summary>
/// Cuts a model into a head (graph inputs to the cut tensors) and a tail (cut tensors plus side inputs to the graph
/// outputs). Each half keeps the source's opset imports, IR version and model-local functions, only the
/// initializers its nodes read, value_info for what it computes, and fully typed inputs/outputs at the cut
/// (symbolic batch and sequence dimensions stay symbolic). Constant and side-input nodes both halves need are
/// duplicated.
/// </summary>
public static class ModelSplitter
{
    public static SplitModels Split(OnnxModel model, IReadOnlyList<string> cutTensors, SplitOptions? options = null, string? sourceName = null) =>
        Split(new SplitAnalysis(model, options), cutTensors, sourceName);

    public static SplitModels Split(SplitAnalysis analysis, IReadOnlyList<string> cutTensors, string? sourceName = null)
    {
        var plan = analysis.Plan(cutTensors);
        var graph = analysis.Graph;
        var crossing = plan.CrossingTensors.ToList();
        analysis.EnsureTypes(crossing);

        var head = BuildHalf(analysis.Model, "head", plan.HeadNodes,
            inputs: plan.HeadInputs.Select(i => InputInfo(graph, i)),
            outputs: crossing.Select(t => analysis.TypeOf(t).ToValueInfo(t)).Concat(plan.HeadStateOutputs.Select(o => OutputInfo(graph, o))),
            description: $"Cleave head: graph inputs -> {string.Join(", ", crossing.Concat(plan.HeadStateOutputs))}");
        var tail = BuildHalf(analysis.Model, "tail", plan.TailNodes,
            inputs: crossing.Select(t => analysis.TypeOf(t).ToValueInfo(t)).Concat(plan.TailGraphInputs.Select(i => InputInfo(graph, i))),
            outputs: plan.TailOutputs.Select(o => OutputInfo(graph, o)),
            description: $"Cleave tail: {string.Join(", ", crossing.Concat(plan.TailGraphInputs))} -> graph outputs");

        var symbols = analysis.SampleValues;
        var manifest = new SplitManifest
        {
            SourceModel = sourceName ?? "",
            SourceSha256 = analysis.Model.Sha256,
            Cut = [.. plan.CutTensors.Select(t => SplitTensor.From(t, analysis.TypeOf(t), "cut", symbols)),
                   .. plan.AuxiliaryTensors.Select(t => SplitTensor.From(t, analysis.TypeOf(t), "auxiliary", symbols))],
            HeadInputs = [.. plan.HeadInputs.Select(i => SplitTensor.From(i, DeclaredOrUnknown(graph, i), plan.TailSideInputs.Contains(i) || analysis.Roles.SideInputs.Contains(i) ? "side" : "input", symbols))],
            TailInputs = [.. plan.CutTensors.Select(t => SplitTensor.From(t, analysis.TypeOf(t), "cut", symbols)),
                          .. plan.AuxiliaryTensors.Select(t => SplitTensor.From(t, analysis.TypeOf(t), "auxiliary", symbols)),
                          .. plan.TailSideInputs.Select(i => SplitTensor.From(i, DeclaredOrUnknown(graph, i), "side", symbols)),
                          .. plan.TailStateInputs.Select(i => SplitTensor.From(i, DeclaredOrUnknown(graph, i), "state", symbols))],
            SideInputs = plan.TailSideInputs,
            TailStateInputs = plan.TailStateInputs,
            HeadStateOutputs = [.. plan.HeadStateOutputs.Select(o => SplitTensor.From(o, DeclaredOrUnknown(graph, o), "state", symbols))],
            Outputs = [.. plan.TailOutputs.Select(o => SplitTensor.From(o, DeclaredOrUnknown(graph, o), "output", symbols))],
            Opsets = analysis.Model.Opsets,
            HeadSha256 = head.Sha256,
            TailSha256 = tail.Sha256,
        };
        return new SplitModels(head, tail, manifest, plan);
    }

    private static TensorType DeclaredOrUnknown(OnnxGraph graph, string name) =>
        graph.DeclaredType(name) ?? new TensorType(OnnxElementType.Undefined, null);

    private static ValueInfoProto OutputInfo(OnnxGraph graph, string output)
    {
        foreach (var vi in graph.Proto.Output)
            if (vi.Name == output) return vi.Clone();
        throw new InvalidOperationException($"graph output '{output}' has no declaration");
    }

    private static ValueInfoProto InputInfo(OnnxGraph graph, string input)
    {
        foreach (var vi in graph.Proto.Input)
            if (vi.Name == input) return vi.Clone();
        throw new InvalidOperationException($"graph input '{input}' has no declaration");
    }

    private static OnnxModel BuildHalf(OnnxModel source, string part, IReadOnlyList<GraphNode> nodes,
        IEnumerable<ValueInfoProto> inputs, IEnumerable<ValueInfoProto> outputs, string description)
    {
        var src = source.Proto;
        var model = new ModelProto
        {
            IrVersion = src.IrVersion,
            ProducerName = "cleave",
            ProducerVersion = typeof(ModelSplitter).Assembly.GetName().Version?.ToString() ?? "",
            Domain = src.Domain,
            ModelVersion = src.ModelVersion,
            DocString = description,
        };
        model.OpsetImport.AddRange(src.OpsetImport.Select(o => o.Clone()));
        model.Functions.AddRange(src.Functions.Select(f => f.Clone()));
        model.MetadataProps.AddRange(src.MetadataProps.Select(m => m.Clone()));
        model.MetadataProps.Add(new StringStringEntryProto { Key = "cleave.part", Value = part });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "cleave.source_sha256", Value = source.Sha256 });

        var g = new GraphProto { Name = $"{(src.Graph.Name.Length > 0 ? src.Graph.Name : "graph")}_{part}" };
        var read = new HashSet<string>(StringComparer.Ordinal);
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            g.Node.Add(node.Proto.Clone());
            read.UnionWith(node.Inputs);
            written.UnionWith(node.Outputs);
        }
        g.Input.AddRange(inputs);
        g.Output.AddRange(outputs);
        var boundary = new HashSet<string>(g.Input.Select(i => i.Name).Concat(g.Output.Select(o => o.Name)), StringComparer.Ordinal);
        foreach (var init in src.Graph.Initializer)
            if (read.Contains(init.Name)) g.Initializer.Add(init.Clone());
        foreach (var sparse in src.Graph.SparseInitializer)
            if (sparse.Values is not null && read.Contains(sparse.Values.Name)) g.SparseInitializer.Add(sparse.Clone());
        foreach (var vi in src.Graph.ValueInfo)
            if (written.Contains(vi.Name) && !boundary.Contains(vi.Name)) g.ValueInfo.Add(vi.Clone());
        model.Graph = g;
        return OnnxModel.FromBytes(model.ToByteArray(), $"{part}.onnx");
    }
}
