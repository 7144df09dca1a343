using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cleave.Models.Onnx;

namespace Cleave.Models.Splitting;

/// <summary>
/// What a split is (written as <c>split.json</c> beside <c>head.onnx</c> and <c>tail.onnx</c>): the source model's
/// hash, the tensors that cross the cut with their types, what each half reads, and the operator sets. Client and
/// server compare <see cref="ComputeHash"/> when they connect, so both must run halves of the same split.
/// </summary>
public sealed class SplitManifest
{
    public const int CurrentFormatVersion = 1;

    public int FormatVersion { get; init; } = CurrentFormatVersion;

    /// <summary>File name of the source model (informational; not part of the hash).</summary>
    public string SourceModel { get; init; } = "";

    /// <summary>Lower-case hex SHA-256 of the source model file.</summary>
    public string SourceSha256 { get; init; } = "";

    /// <summary>The tensors that cross the cut: the cut tensors first, then auxiliary shape-only tensors.</summary>
    public IReadOnlyList<SplitTensor> Cut { get; init; } = [];

    /// <summary>Inputs of head.onnx: the graph inputs the head reads.</summary>
    public IReadOnlyList<SplitTensor> HeadInputs { get; init; } = [];

    /// <summary>Inputs of tail.onnx: the crossing tensors, then pass-through side inputs, then state inputs (role "state").</summary>
    public IReadOnlyList<SplitTensor> TailInputs { get; init; } = [];

    /// <summary>Names of the tail inputs that are pass-through side inputs (the client sends them with the cut tensors).</summary>
    public IReadOnlyList<string> SideInputs { get; init; } = [];

    /// <summary>
    /// Names of the tail inputs that are per-layer state (KV caches of layers after the cut): graph inputs the head
    /// never reads, which the server keeps or receives. Empty for models without such state.
    /// </summary>
    public IReadOnlyList<string> TailStateInputs { get; init; } = [];

    /// <summary>
    /// Outputs of head.onnx besides the cut: graph outputs made before the cut (KV caches of layers before it, role
    /// "state"). Empty for models without such state.
    /// </summary>
    public IReadOnlyList<SplitTensor> HeadStateOutputs { get; init; } = [];

    /// <summary>Outputs of tail.onnx: the source model's outputs other than <see cref="HeadStateOutputs"/>.</summary>
    public IReadOnlyList<SplitTensor> Outputs { get; init; } = [];

    /// <summary>Operator set imports, domain ("" = default ONNX domain) to version.</summary>
    public IReadOnlyDictionary<string, long> Opsets { get; init; } = new Dictionary<string, long>();

    public string HeadFile { get; init; } = "head.onnx";
    public string TailFile { get; init; } = "tail.onnx";
    public string HeadSha256 { get; init; } = "";
    public string TailSha256 { get; init; } = "";

    /// <summary>
    /// The task tails on this cut, the default task first (its file is <see cref="TailFile"/>); empty: one task,
    /// <see cref="DefaultTaskName"/>, answered by tail.onnx. Not part of <see cref="ComputeHash"/>: the head and the
    /// cut decide whether a client fits a server, and adding a task to a served split must not cut off its clients.
    /// </summary>
    public IReadOnlyList<SplitTask> Tasks { get; init; } = [];

    /// <summary>The name of the only task of a manifest without <see cref="Tasks"/>.</summary>
    public const string DefaultTaskName = "default";

    /// <summary>The tasks as served: <see cref="Tasks"/>, or the single default task answered by tail.onnx.</summary>
    public IReadOnlyList<SplitTask> EffectiveTasks() =>
        Tasks.Count > 0 ? Tasks : [new SplitTask { Name = DefaultTaskName, File = TailFile, Kind = SplitTask.ClassesKind }];

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new TensorDimensionJsonConverter() },
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static SplitManifest FromJson(string json)
    {
        try
        {
            var manifest = JsonSerializer.Deserialize<SplitManifest>(json, JsonOptions) ?? throw new InvalidDataException("split manifest is empty");
            if (manifest.FormatVersion is < 1 or > CurrentFormatVersion)
                throw new InvalidDataException($"split manifest format version {manifest.FormatVersion} is not supported (this build reads 1..{CurrentFormatVersion})");
            manifest.ValidateTasks();
            return manifest;
        }
        catch (JsonException e) { throw new InvalidDataException($"split manifest is not valid: {e.Message}", e); }
    }

    /// <summary>This manifest with <paramref name="tasks"/> as its task list (checked as a loaded manifest's are); the hash does not change.</summary>
    public SplitManifest WithTasks(IReadOnlyList<SplitTask> tasks)
    {
        var copy = new SplitManifest
        {
            FormatVersion = FormatVersion,
            SourceModel = SourceModel,
            SourceSha256 = SourceSha256,
            Cut = Cut,
            HeadInputs = HeadInputs,
            TailInputs = TailInputs,
            SideInputs = SideInputs,
            TailStateInputs = TailStateInputs,
            HeadStateOutputs = HeadStateOutputs,
            Outputs = Outputs,
            Opsets = Opsets,
            HeadFile = HeadFile,
            TailFile = TailFile,
            HeadSha256 = HeadSha256,
            TailSha256 = TailSha256,
            Tasks = tasks,
        };
        copy.ValidateTasks();
        return copy;
    }

    /// <summary>The most task tails one split may hold (a request's tasks travel as a bit mask).</summary>
    public const int MaxTasks = 16;

    private void ValidateTasks()
    {
        if (Tasks.Count == 0) return;
        if (Tasks.Count > MaxTasks) throw new InvalidDataException($"split manifest lists {Tasks.Count} tasks; at most {MaxTasks}");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var task in Tasks)
        {
            task.Validate();
            if (!names.Add(task.Name)) throw new InvalidDataException($"split manifest lists task '{task.Name}' twice");
        }
        if (Tasks[0].File != TailFile)
            throw new InvalidDataException($"the first task ('{Tasks[0].Name}', the default) must be answered by the tail file '{TailFile}', not '{Tasks[0].File}'");
    }

    public void Save(string path) => File.WriteAllText(path, ToJson() + "\n");

    public static SplitManifest Load(string path) => FromJson(File.ReadAllText(path));

    /// <summary>
    /// Lower-case hex SHA-256 over a canonical text of everything that must match between client and server (format
    /// version, source hash, crossing tensors, inputs, outputs, opsets, half hashes); file names are left out so a
    /// moved or renamed copy still matches.
    /// </summary>
    public string ComputeHash()
    {
        var text = new StringBuilder();
        text.Append("cleave-split-manifest\n").Append(FormatVersion).Append('\n').Append(SourceSha256).Append('\n');
        AppendTensors(text, "cut", Cut);
        AppendTensors(text, "head_inputs", HeadInputs);
        AppendTensors(text, "tail_inputs", TailInputs);
        text.Append("side_inputs\n");
        foreach (string s in SideInputs) text.Append(s).Append('\n');
        AppendTensors(text, "outputs", Outputs);
        // State sections only when present, so manifests of stateless models hash as before.
        if (TailStateInputs.Count > 0 || HeadStateOutputs.Count > 0)
        {
            text.Append("tail_state_inputs\n");
            foreach (string s in TailStateInputs) text.Append(s).Append('\n');
            AppendTensors(text, "head_state_outputs", HeadStateOutputs);
        }
        text.Append("opsets\n");
        foreach (var (domain, version) in Opsets.OrderBy(o => o.Key, StringComparer.Ordinal))
            text.Append(domain).Append('=').Append(version).Append('\n');
        text.Append(HeadSha256).Append('\n').Append(TailSha256).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static void AppendTensors(StringBuilder text, string section, IReadOnlyList<SplitTensor> tensors)
    {
        text.Append(section).Append('\n');
        foreach (var t in tensors)
            text.Append(t.Name).Append('\t').Append(t.Dtype).Append('\t').Append(string.Join(",", t.Shape)).Append('\t').Append(t.Role).Append('\n');
    }
}

/// <summary>One tensor in a split manifest. <see cref="Shape"/> holds numbers for fixed and strings for symbolic dimensions.</summary>
public sealed class SplitTensor
{
    public string Name { get; init; } = "";
    public string Dtype { get; init; } = "";
    public IReadOnlyList<TensorDimension> Shape { get; init; } = [];

    /// <summary>"cut", "auxiliary" (shape-only tensor carried with the cut), "side" (pass-through side input), "input" or "output".</summary>
    public string Role { get; init; } = "";

    /// <summary>Bytes per sample as float32 (symbolic dimensions at their sample values), or null when unknown.</summary>
    public long? BytesFp32 { get; init; }

    public static SplitTensor From(string name, TensorType type, string role, IReadOnlyDictionary<string, long>? symbols = null) => new()
    {
        Name = name,
        Dtype = type.ElementTypeName,
        Shape = type.Dimensions ?? [],
        Role = role,
        BytesFp32 = type.ElementCount(symbols) * 4,
    };

    public TensorType ToTensorType() => new(OnnxElementType.Parse(Dtype), Shape);
}

/// <summary>Writes a dimension as a number (fixed), a string (symbolic) or null (unknown).</summary>
internal sealed class TensorDimensionJsonConverter : JsonConverter<TensorDimension>
{
    public override TensorDimension Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Number => TensorDimension.Fixed(reader.GetInt64()),
        JsonTokenType.String => TensorDimension.Named(reader.GetString()!),
        JsonTokenType.Null => TensorDimension.Unknown,
        _ => throw new JsonException("a tensor dimension must be a number, a string or null"),
    };

    public override void Write(Utf8JsonWriter writer, TensorDimension value, JsonSerializerOptions options)
    {
        if (value.Value is long v) writer.WriteNumberValue(v);
        else if (value.Symbol is not null) writer.WriteStringValue(value.Symbol);
        else writer.WriteNullValue();
    }
}
