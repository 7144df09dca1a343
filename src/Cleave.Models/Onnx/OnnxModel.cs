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
        catch (UnauthorizedAccessException e) when (Directory.Exists(path))
        {
            // Opening a folder as a file reports "access denied", which sends a user looking at permissions.
            throw new FileNotFoundException(File.Exists(Path.Combine(path, "split.json"))
                ? $"'{path}' is a split folder (head.onnx, tail.onnx, split.json), not a model file"
                : $"'{path}' is a folder, not an ONNX model file", path, e);
        }
        return FromBytes(bytes, path);
    }

    /// <summary>What a file that is not a model looks like, for the error message: empty, text (with its start), or other.</summary>
    private static string Describe(byte[] bytes)
    {
        if (bytes.Length == 0) return " (the file is empty)";
        var head = bytes.AsSpan(0, Math.Min(bytes.Length, 40));
        foreach (byte b in head)
            if (b is < 0x09 or (> 0x0d and < 0x20) or 0x7f) return " (its contents are not an ONNX graph; an .onnx file comes from an exporter or `cleave import`)";
        string start = System.Text.Encoding.ASCII.GetString(head).ReplaceLineEndings(" ").Trim();
        return $" (it is a text file beginning \"{start}\"; an .onnx file is binary, from an exporter or `cleave import`)";
    }

    public static OnnxModel FromBytes(byte[] bytes, string? origin = null)
    {
        ModelProto proto;
        try { proto = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e)
        {
            // The parser's own words ("a message while more data was available") mean nothing to someone who gave a
            // text file or an image by mistake; say what the file looks like instead.
            throw new InvalidDataException($"{origin ?? "input"} is not an ONNX model{Describe(bytes)}", e);
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
