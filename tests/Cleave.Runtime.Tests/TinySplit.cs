using Cleave.Codecs;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Profiling;
using Cleave.Models.Splitting;
using Google.Protobuf;
using Onnx;

namespace Cleave.Runtime.Tests;

/// <summary>
/// A small synthetic classifier split at a hidden layer, written once per test run: x[N,16] -> MatMul -> Relu ->
/// cut[N,64] | tail: MatMul(64x256) -> Relu -> 3 x (MatMul(256x256) -> Relu) -> MatMul(256x10) -> y[N,10]. The tail
/// is about 0.2 M multiply-adds per sample: enough that a queue of one fills under load, fast enough for tests.
/// Tests send frames of random cut tensors; no assets needed.
/// </summary>
public static class TinySplit
{
    public const string Cut = "cut";
    public const int CutWidth = 64;

    private static readonly Lazy<string> Folder = new(Build);

    public static string SplitPath => Folder.Value;

    public static SplitDirectory Load() => SplitDirectory.Load(SplitPath);

    /// <summary>Frames of deterministic random cut tensors, shape [1, 64].</summary>
    public static byte[][] Frames(int count, int seed, string codec = "quant:bits=8,entropy=rans")
    {
        var c = FeatureCodecs.Create(codec);
        var random = new Random(seed);
        var frames = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            var values = new float[CutWidth];
            for (int j = 0; j < values.Length; j++) values[j] = (float)Math.Max(0, random.NextDouble() * 2 - 0.5);
            frames[i] = c.Encode(values, new TensorShape(1, CutWidth));
        }
        return frames;
    }

    /// <summary>The tail's top-1 for a frame, computed here in-process.</summary>
    public static int LocalTop1(byte[] frame)
    {
        using var tail = new OrtModelRunner(File.ReadAllBytes(Load().TailPath));
        var values = FeatureFrame.Decode(frame, out var shape);
        var output = tail.Run(new Dictionary<string, HostTensor> { [Cut] = new(OnnxElementType.Float, [1, shape.ElementCount], values) });
        return ImageNetSample.TopK((float[])output[tail.OutputNames[0]].Data, 1)[0];
    }

    private static string Build()
    {
        var g = new GraphProto { Name = "tiny" };
        g.Input.Add(Float("x", "N", 16));
        g.Output.Add(Float("y", "N", 10));
        g.Initializer.Add(Weights("w0", 1, 16, CutWidth));
        g.Initializer.Add(Weights("w1", 2, CutWidth, 256));
        g.Initializer.Add(Weights("w2", 3, 256, 256));
        g.Initializer.Add(Weights("w3", 4, 256, 10));
        g.Node.Add(Node("MatMul", ["x", "w0"], ["h0"]));
        g.Node.Add(Node("Relu", ["h0"], [Cut]));
        g.Node.Add(Node("MatMul", [Cut, "w1"], ["h1"]));
        g.Node.Add(Node("Relu", ["h1"], ["r1"]));
        string last = "r1";
        for (int i = 0; i < 3; i++)
        {
            g.Node.Add(Node("MatMul", [last, "w2"], [$"m{i}"]));
            g.Node.Add(Node("Relu", [$"m{i}"], [$"r{i + 2}"]));
            last = $"r{i + 2}";
        }
        g.Node.Add(Node("MatMul", [last, "w3"], ["y"]));
        var proto = new ModelProto { IrVersion = 8, ProducerName = "cleave-tests", Graph = g };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        var model = OnnxModel.FromBytes(proto.ToByteArray(), "tiny");

        string folder = Path.Combine(Path.GetTempPath(), $"cleave-runtime-tiny-{Environment.ProcessId}");
        ModelSplitter.Split(model, [Cut], sourceName: "tiny.onnx").Save(folder);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return folder;
    }

    private static NodeProto Node(string op, string[] inputs, string[] outputs)
    {
        var n = new NodeProto { OpType = op, Name = outputs[0] + "_node" };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        return n;
    }

    private static ValueInfoProto Float(string name, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is string s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d) });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = OnnxElementType.Float, Shape = shape } } };
    }

    private static TensorProto Weights(string name, int seed, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = OnnxElementType.Float };
        t.Dims.AddRange(dims);
        var random = new Random(seed);
        long count = dims.Aggregate(1L, (a, b) => a * b);
        for (long i = 0; i < count; i++) t.FloatData.Add((float)(random.NextDouble() - 0.5) * 0.2f);
        return t;
    }
}
