using Cleave.Models.Onnx;
using Cleave.Training.Layers;
using Onnx;

namespace Cleave.Training.Export;

/// <summary>Writes an <see cref="ExportableLayer"/> as a stand-alone ONNX model, or as nodes to splice into another graph.</summary>
public static class LayerExport
{
    public const long Opset = 18;

    /// <summary>The layer as a model with one input and one output; the batch dimension is symbolic ("N").</summary>
    public static OnnxModel ToModel(ExportableLayer layer, long[] inputShape, string inputName = "input", string outputName = "output")
    {
        ArgumentNullException.ThrowIfNull(layer);
        var fragment = Emit(layer, inputName, outputName, prefix: "");
        var graph = new GraphProto { Name = layer.GetName() };
        graph.Input.Add(OnnxGraphBuilder.ValueInfo(inputName, OnnxElementType.Float, inputShape, "N"));
        graph.Output.Add(OnnxGraphBuilder.ValueInfo(outputName, OnnxElementType.Float, layer.OutputShape(inputShape), "N"));
        graph.Node.AddRange(fragment.Node);
        graph.Initializer.AddRange(fragment.Initializer);
        var proto = new ModelProto { IrVersion = 8, ProducerName = "cleave-training", Graph = graph };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return OnnxModel.FromProto(proto);
    }

    /// <summary>
    /// The layer's nodes and initializers reading <paramref name="inputName"/> and writing <paramref name="outputName"/>;
    /// every other name starts with <paramref name="prefix"/> so the fragment can join a graph without collisions.
    /// The layer is exported in inference form (its training flag is restored afterwards).
    /// </summary>
    public static GraphProto Emit(ExportableLayer layer, string inputName, string outputName, string prefix)
    {
        ArgumentNullException.ThrowIfNull(layer);
        bool wasTraining = layer.training;
        layer.eval();
        try
        {
            var builder = new OnnxGraphBuilder();
            builder.UniqueName(inputName);
            string produced = layer.EmitOnnx(builder, inputName);
            var graph = builder.Graph;
            var renames = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var init in graph.Initializer) renames[init.Name] = prefix + init.Name;
            foreach (var node in graph.Node)
            {
                node.Name = prefix + node.Name;
                foreach (string o in node.Output) renames[o] = prefix + o;
            }
            renames[produced] = outputName;
            foreach (var init in graph.Initializer) init.Name = renames[init.Name];
            foreach (var node in graph.Node)
            {
                for (int i = 0; i < node.Input.Count; i++)
                    if (renames.TryGetValue(node.Input[i], out var n)) node.Input[i] = n;
                for (int i = 0; i < node.Output.Count; i++) node.Output[i] = renames[node.Output[i]];
            }
            return graph;
        }
        finally
        {
            layer.train(wasTraining);
        }
    }
}
