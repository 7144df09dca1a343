using System.Security.Cryptography;
using Cleave.Models.Graph;
using Google.Protobuf;
using Onnx;

namespace Cleave.Models.Onnx;

/// <summary>
/// An ONNX model held as its protobuf message, with the SHA-256 of the bytes it was read from (the identity a split
/// manifest records) and a lazily built graph analysis. Mutating <see cref="Proto"/> after <see cref="Graph"/> was
/// first read leaves the analysis stale: build a new <see cref="OnnxModel"/> instead.
/// </summary>
public sealed class OnnxModel
{
    private OnnxGraph? _graph;

    private OnnxModel(ModelProto proto, string sha256)
    {
        Proto = proto;
        Sha256 = sha256;
    }

    public ModelProto Proto { get; }

    /// <summary>Lower-case hex SHA-256 of the serialized model this instance was read from (or built into).</summary>
    public string Sha256 { get; }

    public OnnxGraph Graph => _graph ??= new OnnxGraph(Proto.Graph ?? throw new InvalidDataException("the ONNX model has no graph"));

    /// <summary>Operator set imports: domain ("" is the default ONNX domain) to version.</summary>
    public IReadOnlyDictionary<string, long> Opsets
    {
        get
        {
            var opsets = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var o in Proto.OpsetImport) opsets[o.Domain] = o.Version;
            return opsets;
        }
    }

    /// <summary>Version of the default-domain operator set; 1 when the model imports none (as ONNX specifies).</summary>
    public long DefaultOpsetVersion => Opsets.TryGetValue("", out long v) ? v : Opsets.TryGetValue("ai.onnx", out v) ? v : 1;

    public static OnnxModel Load(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"model file '{path}' does not exist", path, e);
        }
        return FromBytes(bytes, path);
    }

    public static OnnxModel FromBytes(byte[] bytes, string? origin = null)
    {
        ModelProto proto;
        try { proto = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{origin ?? "input"} is not an ONNX model: {e.Message}", e);
        }
        if (proto.Graph is null || (proto.Graph.Node.Count == 0 && proto.Graph.Input.Count == 0))
            throw new InvalidDataException($"{origin ?? "input"} is not an ONNX model: it has no graph");
        foreach (var init in proto.Graph.Initializer)
            if (init.DataLocation == TensorProto.Types.DataLocation.External)
                throw new InvalidDataException(
                    $"{origin ?? "model"}: initializer '{init.Name}' keeps its data in an external file, which Cleave does not read yet");
        return new OnnxModel(proto, HashHex(bytes));
    }

    /// <summary>Wraps a message built in memory; the hash is that of its serialization.</summary>
    public static OnnxModel FromProto(ModelProto proto) => FromBytes(proto.ToByteArray());

    public byte[] ToBytes() => Proto.ToByteArray();

    public void Save(string path) => File.WriteAllBytes(path, ToBytes());

    public static string HashHex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
