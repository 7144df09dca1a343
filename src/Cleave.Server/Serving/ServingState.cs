using Cleave.Codecs;
using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving.Security;

namespace Cleave.Runtime.Serving;

/// <summary>Everything the served modes share for the lifetime of a <see cref="SplitServer"/>: models, batchers, the idempotency cache, metrics.</summary>
public sealed class ServingState : IDisposable
{
    private readonly Dictionary<string, (InferenceBackend Backend, DynamicBatcher Batcher)> _modes = new(StringComparer.Ordinal);

    // Split backends beyond the first, by manifest hash: each has its own batcher under the key "split@<hash>".
    private readonly Dictionary<string, string> _moreSplits = new(StringComparer.Ordinal);

    public ServingState(SplitServerOptions options)
    {
        options.Validate();
        Options = options;
        Cache = new IdempotencyCache(options.IdempotencyCapacity, options.IdempotencyMaxBytes, options.IdempotencyMaxAge);
        Quotas = new ClientQuotas(SecurityMetrics);
        BufferedRequests = new MemoryBudget(options.Limits.MaxBufferedRequestBytes);
        try
        {
            Plan = options.ConfiguredPlan;
            if (options.SplitDirectory is not null)
            {
                var split = SplitTailBackend.Load(options.SplitDirectory, Plan.Threads);
                if (options.AutoExecution)
                {
                    try { Calibration = ExecutionCalibrator.Calibrate(split, options.Calibration); }
                    catch
                    {
                        split.Dispose();
                        throw;
                    }
                    Plan = Calibration.Chosen;
                }
                Add(split);
            }
            foreach (string directory in options.MoreSplitDirectories)
            {
                var backend = SplitTailBackend.Load(directory, Plan.Threads);
                if (backend.ModelHash == _modes[ServingModes.Split].Backend.ModelHash || _moreSplits.ContainsKey(backend.ModelHash))
                {
                    backend.Dispose();
                    throw new ArgumentException($"'{directory}' is a split already served (same manifest hash)");
                }
                string key = $"{ServingModes.Split}@{backend.ModelHash}";
                _moreSplits[backend.ModelHash] = key;
                _modes[key] = (backend, NewBatcher(backend));
            }
            if (options.FullModelPath is not null) Add(FullModelBackend.Load(options.FullModelPath, Plan.Threads, options.Limits));
        }
        catch
        {
            Dispose();
            throw;
        }
        Metrics.ExecutionPlan = (Plan, Calibration is not null ? "auto" : options.Execution is not null ? "given" : "flags");
        Metrics.QueueDepths = () => _modes.ToDictionary(m => m.Key, m => m.Value.Batcher.Depth);
        Metrics.MoreSeries = () =>
        [
            ("cleave_idempotency_entries", "gauge", "requests remembered for retries", Cache.Count),
            ("cleave_idempotency_bytes", "gauge", "bytes the remembered answers take (approximate)", Cache.Bytes),
            ("cleave_unauthenticated_total", "counter", "calls refused for missing or invalid credentials", SecurityMetrics.UnauthenticatedCount),
            ("cleave_over_quota_total", "counter", "requests refused because their caller was over its quota", SecurityMetrics.OverQuotaCount),
            // Memory, so a soak can tell managed growth (caches, queues) from native (runtime pools, ONNX Runtime).
            ("dotnet_gc_heap_bytes", "gauge", "managed heap size after the last garbage collection", GC.GetGCMemoryInfo().HeapSizeBytes),
            ("process_resident_memory_bytes", "gauge", "resident set size of the server process", Environment.WorkingSet),
            // Bytes allocated on the managed heap since start: divided by requests, what a request costs the GC.
            ("dotnet_gc_allocated_bytes_total", "counter", "bytes allocated on the managed heap since the server started", GC.GetTotalAllocatedBytes()),
        ];
    }

    public SplitServerOptions Options { get; }

    /// <summary>The execution plan every mode runs with: given, made from the separate settings, or chosen by calibration.</summary>
    public ExecutionPlan Plan { get; } = new();

    /// <summary>What the start-up calibration measured (<see cref="SplitServerOptions.AutoExecution"/>), or null.</summary>
    public ExecutionCalibration? Calibration { get; }
    public ServerMetrics Metrics { get; } = new();
    internal IdempotencyCache Cache { get; }
    public ClientQuotas Quotas { get; }
    public ServerSecurityMetrics SecurityMetrics { get; } = new();

    /// <summary>
    /// Tells one server process from another (a client notices a restart) without saying anything about the machine:
    /// no host name, no process id.
    /// </summary>
    /// <summary>Random per server start (<see cref="ServerMetrics.ServerId"/>, also in <c>/metrics</c>): a client sees a restart, and nothing of the host.</summary>
    public string ServerId => Metrics.ServerId;

    /// <summary>Bytes of partly received request messages held across all streams (<see cref="ServerLimits.MaxBufferedRequestBytes"/>).</summary>
    public MemoryBudget BufferedRequests { get; }

    public IReadOnlyCollection<string> Modes => _modes.Keys;

    public InferenceBackend Backend(string mode) => _modes[mode].Backend;

    /// <summary>Largest payload accepted in <paramref name="mode"/>: the configured limit, or the cut's largest frame when smaller.</summary>
    public int MaxPayloadBytes(string mode) => (int)Math.Min(Options.MaxMessageBytes, Backend(mode).MaxPayloadBytes);

    /// <summary>
    /// The gRPC message limit: the largest payload of any served mode plus room for the request's other fields.
    /// A message between a mode's payload limit and this gets a typed MESSAGE_TOO_LARGE; one beyond it is refused
    /// by gRPC from its length prefix (RESOURCE_EXHAUSTED), before any of it is buffered.
    /// </summary>
    public int MaxReceiveMessageBytes => _modes.Keys.Max(MaxPayloadBytes) + EnvelopeBytes;

    private const int EnvelopeBytes = 64 * 1024;

    internal DynamicBatcher Batcher(string mode) => _modes[mode].Batcher;

    private void Add(InferenceBackend backend)
    {
        try { _modes[backend.Mode] = (backend, NewBatcher(backend)); }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    private DynamicBatcher NewBatcher(InferenceBackend backend) => new(backend, Plan, Options.QueueCapacity, Metrics);

    /// <summary>
    /// Answers a Hello: the Welcome (with an error set when refused) and, when accepted, the mode to serve (for a
    /// split other than the first, the key of its backend, "split@&lt;manifest hash&gt;").
    /// </summary>
    internal (Welcome Welcome, string? Mode) Handshake(Hello hello)
    {
        var welcome = new Welcome { ServerId = ServerId, MaxMessageBytes = (uint)Options.MaxMessageBytes };
        string mode = hello.Mode.Length > 0 ? hello.Mode : _modes.ContainsKey(ServingModes.Split) ? ServingModes.Split : ServingModes.Full;
        welcome.Mode = mode;
        if (mode == ServingModes.Split && _moreSplits.TryGetValue(hello.ManifestHash, out string? moreKey))
        {
            var (accepted, _) = Handshake(new Hello(hello) { ManifestHash = _modes[ServingModes.Split].Backend.ModelHash });
            accepted.ManifestHash = hello.ManifestHash;
            if (accepted.Error is null)
            {
                accepted.MaxMessageBytes = (uint)MaxPayloadBytes(moreKey);
                accepted.Tasks.Clear();
                AddTasks(accepted, Backend(moreKey));
            }
            return (accepted, accepted.Error is null ? moreKey : null);
        }
        if (mode == ServingModes.Split && Options.LocateCut is { } locate && (!_modes.TryGetValue(mode, out var local) || hello.ManifestHash != local.Backend.ModelHash))
            return (Elsewhere(welcome, hello.ManifestHash, locate), null);
        if (!_modes.TryGetValue(mode, out var served))
            return (Refuse(welcome, ErrorCode.InvalidRequest, $"this server does not serve mode '{mode}' (it serves: {string.Join(", ", _modes.Keys)})"), null);
        // A refused client learns only that its hash is not served: not which hash is (that would tell a stranger
        // what model runs here), hence the Welcome's hash is set only once the hashes agree.
        if (mode == ServingModes.Split && hello.ManifestHash != served.Backend.ModelHash)
            return (Refuse(welcome, ErrorCode.ManifestMismatch,
                $"this server does not serve the split with manifest hash '{Truncate(hello.ManifestHash)}': both ends must run halves of the same split"), null);
        welcome.ManifestHash = served.Backend.ModelHash;
        foreach (string spec in hello.Codecs)
        {
            try { welcome.AcceptedCodecs.Add(FeatureCodecs.Create(spec).Spec); }
            catch (Exception e) when (e is ArgumentException or FormatException) { } // unknown or malformed spec: not accepted
        }
        if (mode == ServingModes.Split && hello.Codecs.Count > 0 && welcome.AcceptedCodecs.Count == 0)
            return (Refuse(welcome, ErrorCode.UnsupportedCodec, $"none of the client's codecs is known here: {string.Join("; ", hello.Codecs)}"), null);
        welcome.MaxMessageBytes = (uint)MaxPayloadBytes(mode);
        AddTasks(welcome, served.Backend);
        return (welcome, mode);
    }

    private static void AddTasks(Welcome welcome, InferenceBackend backend)
    {
        foreach (var task in backend.Tasks)
            welcome.Tasks.Add(new TaskInfo { Name = task.Name, Kind = task.Kind, Outputs = (uint)task.OutputsPerSample });
    }

    /// <summary>A cut this server lacks: the address of one that has it, or a refusal saying none has.</summary>
    private static Welcome Elsewhere(Welcome welcome, string manifestHash, Func<string, Uri?> locate)
    {
        if (manifestHash.Length > 0 && locate(manifestHash) is { } address)
        {
            welcome.Error = new Error { Code = ErrorCode.CutElsewhere, Message = $"cut {Truncate(manifestHash)} is served by {address}, not here", Redirect = address.ToString() };
            return welcome;
        }
        return Refuse(welcome, ErrorCode.ManifestMismatch, $"no server of the cluster serves the cut with split manifest hash '{Truncate(manifestHash)}'");
    }

    private static string Truncate(string text) => text.Length <= 80 ? text : text[..80] + "...";

    private static Welcome Refuse(Welcome welcome, ErrorCode code, string message)
    {
        welcome.Error = new Error { Code = code, Message = message };
        return welcome;
    }

    public void Dispose()
    {
        Metrics.Dispose();
        Quotas?.Dispose();
        foreach (var (backend, batcher) in _modes.Values)
        {
            batcher.Dispose();
            backend.Dispose();
        }
    }
}
