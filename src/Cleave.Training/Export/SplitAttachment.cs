using Cleave.Codecs.IO;
using Cleave.Models.Onnx;
using Cleave.Models.Splitting;
using Cleave.Training.Layers;
using Onnx;

namespace Cleave.Training.Export;

/// <summary>
/// Merges trained layers into a split folder: a device-side layer appended to head.onnx (an encoder, an adapter) and
/// a server-side layer prepended to tail.onnx (a decoder), with split.json updated (new cut shape, half hashes and
/// therefore manifest hash). The result is an ordinary split folder: serve, client, eval, sweep, plan and demo run it
/// with no change. The source model hash stays that of the unsplit model, which eval compares against.
/// </summary>
public static class SplitAttachment
{
    public const string DevicePrefix = "cleave_device/";
    public const string ServerPrefix = "cleave_server/";

    /// <summary>
    /// Writes the merged split into <paramref name="outputDirectory"/> (created; files written all or none, split.json
    /// last). <paramref name="newCutName"/> names the tensor that now crosses the network; it defaults to the old name,
    /// which needs the device layer to keep the cut's shape when there is no server layer.
    /// </summary>
    public static SplitManifest Attach(string splitDirectory, string outputDirectory, ExportableLayer? deviceLayer,
        ExportableLayer? serverLayer, string? newCutName = null)
    {
        var manifest = SplitManifest.Load(Path.Combine(splitDirectory, "split.json"));
        var head = OnnxModel.Load(Path.Combine(splitDirectory, manifest.HeadFile)).Proto.Clone();
        var tail = OnnxModel.Load(Path.Combine(splitDirectory, manifest.TailFile)).Proto.Clone();
        if (manifest.Cut.Count != 1 || manifest.SideInputs.Count > 0 || manifest.TailStateInputs.Count > 0)
            throw new NotSupportedException("trained layers attach to splits with exactly one cut tensor and no side or state inputs");
        var cut = manifest.Cut[0];
        string oldName = cut.Name, newName = newCutName ?? oldName;
        long[] cutShape = [.. cut.Shape.Select((d, i) => d.Value ?? (i == 0 ? 1 : throw new NotSupportedException($"cut dimension {i} of '{oldName}' is not fixed")))];
        long[] newShape = deviceLayer?.OutputShape(cutShape) ?? cutShape;
        if (serverLayer is null && !newShape.SequenceEqual(cutShape))
            throw new ArgumentException($"the device layer turns the cut [{string.Join(",", cutShape)}] into [{string.Join(",", newShape)}]; the tail reads the old shape, so a server layer must restore it");
        if (serverLayer is not null && !serverLayer.OutputShape(newShape).SequenceEqual(cutShape))
            throw new ArgumentException($"the server layer gives [{string.Join(",", serverLayer.OutputShape(newShape))}], the tail reads [{string.Join(",", cutShape)}]");
        if (serverLayer is null && newName != oldName)
            throw new ArgumentException("renaming the cut needs a server layer that writes the tensor the tail reads");
        string symbol = cut.Shape[0].Symbol ?? "N";

        if (deviceLayer is not null)
        {
            string inner = DevicePrefix + oldName;
            RenameTensor(head.Graph, oldName, inner);
            var fragment = LayerExport.Emit(deviceLayer, inner, newName, DevicePrefix);
            head.Graph.Node.AddRange(fragment.Node);
            head.Graph.Initializer.AddRange(fragment.Initializer);
            ReplaceOutput(head.Graph, oldName, OnnxGraphBuilder.ValueInfo(newName, OnnxElementType.Float, newShape, symbol));
        }
        if (serverLayer is not null)
        {
            // A cut that keeps its name (a server-side adapter alone) is read by the layer and written under another name,
            // which the tail's nodes then read: one tensor name, one producer.
            string written = newName == oldName ? ServerPrefix + oldName : oldName;
            if (written != oldName) RenameTensor(tail.Graph, oldName, written);
            var fragment = LayerExport.Emit(serverLayer, newName, written, ServerPrefix);
            for (int i = 0; i < tail.Graph.Input.Count; i++)
                if (tail.Graph.Input[i].Name == oldName)
                    tail.Graph.Input[i] = OnnxGraphBuilder.ValueInfo(newName, OnnxElementType.Float, newShape, symbol);
            var nodes = fragment.Node.Concat(tail.Graph.Node).ToList();
            tail.Graph.Node.Clear();
            tail.Graph.Node.AddRange(nodes);
            tail.Graph.Initializer.AddRange(fragment.Initializer);
        }

        // Load both halves back through Cleave's reader: a graph that does not hold together fails here, before any file is written.
        var headModel = OnnxModel.FromProto(head);
        var tailModel = OnnxModel.FromProto(tail);
        var newCut = SplitTensor.From(newName, new TensorType(OnnxElementType.Float,
            [.. newShape.Select((d, i) => i == 0 ? cut.Shape[0] : TensorDimension.Fixed(d))]), cut.Role);
        var updated = new SplitManifest
        {
            FormatVersion = manifest.FormatVersion,
            SourceModel = manifest.SourceModel,
            SourceSha256 = manifest.SourceSha256,
            Cut = [newCut],
            HeadInputs = manifest.HeadInputs,
            TailInputs = [.. manifest.TailInputs.Select(t => t.Name == oldName ? newCut : t)],
            SideInputs = manifest.SideInputs,
            TailStateInputs = manifest.TailStateInputs,
            HeadStateOutputs = manifest.HeadStateOutputs,
            Outputs = manifest.Outputs,
            Opsets = MergeOpsets(manifest.Opsets),
            HeadFile = manifest.HeadFile,
            TailFile = manifest.TailFile,
            HeadSha256 = headModel.Sha256,
            TailSha256 = tailModel.Sha256,
        };
        Directory.CreateDirectory(outputDirectory);
        // All or none: a full disk while writing the tail must not leave a new head beside an old (or no) tail.
        AtomicFile.WriteAll([
            (Path.Combine(outputDirectory, updated.HeadFile), headModel.ToBytes()),
            (Path.Combine(outputDirectory, updated.TailFile), tailModel.ToBytes()),
            (Path.Combine(outputDirectory, "split.json"), System.Text.Encoding.UTF8.GetBytes(updated.ToJson() + "\n")),
        ]);
        return updated;
    }

    private static IReadOnlyDictionary<string, long> MergeOpsets(IReadOnlyDictionary<string, long> opsets)
    {
        var merged = new Dictionary<string, long>(opsets);
        if (merged.GetValueOrDefault("") < 13)
            throw new NotSupportedException($"the split imports opset {merged.GetValueOrDefault("")}; exported layers need 13 or later");
        return merged;
    }

    private static void RenameTensor(GraphProto graph, string from, string to)
    {
        foreach (var node in graph.Node)
        {
            for (int i = 0; i < node.Output.Count; i++) if (node.Output[i] == from) node.Output[i] = to;
            for (int i = 0; i < node.Input.Count; i++) if (node.Input[i] == from) node.Input[i] = to;
        }
        foreach (var vi in graph.ValueInfo) if (vi.Name == from) vi.Name = to;
    }

    private static void ReplaceOutput(GraphProto graph, string oldOutput, ValueInfoProto replacement)
    {
        for (int i = 0; i < graph.Output.Count; i++)
            if (graph.Output[i].Name == oldOutput)
            {
                graph.Output[i] = replacement;
                return;
            }
        graph.Output.Add(replacement);
    }
}
