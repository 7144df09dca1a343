using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Evaluation.Classification;
using Cleave.Models.EarlyExit;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Profiling;
using Cleave.Planning.Adaptation;
using Cleave.Planning.Latency;
using Cleave.Planning.Planner;
using Cleave.Runtime;
using Cleave.Runtime.Client;
using Cleave.Runtime.Links;
using Cleave.Runtime.Serving;

namespace Cleave.Planning.Serving;

/// <summary>One request as a <see cref="PlanClient"/> ran it. Times in milliseconds; <see cref="NetworkMs"/> is what the client saw beyond its own and the server's compute.</summary>
public sealed record PlanRequestResult(int Index, string Configuration, int Top1, double TotalMs, double DeviceMs, double EncodeMs, double NetworkMs,
    double ServerMs, long Bytes, bool Explored)
{
    /// <summary>Answered on the device by the configuration's early exit: nothing was encoded or sent.</summary>
    public bool Exited { get; init; }
}

/// <summary>
/// The device side of a plan: runs each image with the plan's current configuration (full local, JPEG full
/// offload, or a head + codec at one of the hosted cuts), measures what it saw, and — when adaptive — lets an
/// <see cref="AdaptiveSelector"/> move to another of the plan's precomputed configurations as the measured link
/// changes. One stream per target on the server (each cut has its own manifest hash, offload uses full mode).
/// A configuration with an early exit runs the exit stored in its cut's folder after the head and answers on the
/// device when the exit's confidence reaches the configuration's threshold. Requests run one at a time.
/// </summary>
public sealed class PlanClient : IAsyncDisposable
{
    private readonly PlanClientOptions _options;
    private readonly IReadOnlyDictionary<string, SplitDirectory> _splits;
    private readonly Dictionary<string, SplitHead> _heads = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SplitClient> _connections = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FeatureCodec> _codecs = new(StringComparer.Ordinal);
    private readonly IReadOnlyDictionary<string, DeviceExit> _exits;
    private readonly OrtModelRunner? _full;
    private readonly string _fullInput;
    private readonly PreprocessingSpec _spec;
    private LinkProfile _link;
    private int _requests;
    private int _sinceExplore;
    private int _probes;

    private PlanClient(PlanClientOptions options, IReadOnlyDictionary<string, SplitDirectory> splits, IReadOnlyDictionary<string, DeviceExit> exits,
        PreprocessingSpec spec, OrtModelRunner? full, string fullInput)
    {
        _options = options;
        _splits = splits;
        _exits = exits;
        _spec = spec;
        _full = full;
        _fullInput = fullInput;
        _link = options.Link;
        var plan = options.Plan;
        var configurations = options.Adaptive ? plan.AdaptiveConfigurations : [plan.Configuration(options.Fixed ?? plan.Chosen)];
        var link = plan.Link.ToProfile();
        var estimator = new LinkEstimator(double.IsPositiveInfinity(link.UplinkKbps) ? 1e6 : link.UplinkKbps, link.RttMs);
        Selector = new AdaptiveSelector(configurations, estimator, options.SwitchMargin, options.SwitchConfirmations, options.MinRequestsBetweenSwitches);
    }

    public AdaptiveSelector Selector { get; }

    public Configuration Current => Selector.Current;

    /// <summary>RTT probes sent so far.</summary>
    public int Probes => _probes;

    /// <summary>The emulated link; setting it takes effect from the next message (the client is not told: it must notice).</summary>
    public LinkProfile Link
    {
        get => _link;
        set
        {
            _link = value;
            foreach (var c in _connections.Values) c.Link = value;
        }
    }

    public static Task<PlanClient> CreateAsync(PlanClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!(options.EmulatedDeviceSpeed > 0)) throw new ArgumentOutOfRangeException(nameof(options), options.EmulatedDeviceSpeed, "the emulated device speed must be positive");
        var plan = options.Plan;
        var splits = PlanSplitFolders.Load(plan, options.SplitsDirectory);
        var model = OnnxModel.Load(options.ModelPath);
        if (plan.ModelSha256.Length > 0 && model.Sha256 != plan.ModelSha256)
            throw new InvalidDataException($"the plan was made for model {plan.ModelSha256[..12]}..., '{options.ModelPath}' is {model.Sha256[..12]}...");
        var spec = PreprocessingSpec.FromMetadata(model.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value))
            ?? throw new InvalidOperationException($"'{options.ModelPath}' records no preprocessing (import it with `cleave import`)");
        IReadOnlyList<Configuration> used = options.Adaptive ? plan.AdaptiveConfigurations : [plan.Configuration(options.Fixed ?? plan.Chosen)];
        bool needsLocal = used.Any(c => c.Kind == ConfigurationKind.Local);
        var exits = LoadExits(used, splits, options.Threads);
        var full = needsLocal ? new OrtModelRunner(model.ToBytes(), options.Threads) : null;
        string input = model.Graph.Inputs.Contains(spec.InputName) ? spec.InputName : model.Graph.Inputs[0];
        return Task.FromResult(new PlanClient(options, splits, exits, spec, full, input));
    }

    /// <summary>The exit of every cut an exit configuration uses, from the cut's folder, checked against the planned model.</summary>
    private static Dictionary<string, DeviceExit> LoadExits(IReadOnlyList<Configuration> used, IReadOnlyDictionary<string, SplitDirectory> splits, int threads)
    {
        var exits = new Dictionary<string, DeviceExit>(StringComparer.Ordinal);
        try
        {
            foreach (var c in used.Where(c => c.ExitThreshold is not null && c.Split is not null))
            {
                if (!exits.TryGetValue(c.Split!, out var exit))
                {
                    var split = splits[c.Split!];
                    exit = DeviceExit.Load(split, threads: threads)
                        ?? throw new FileNotFoundException($"the plan's configuration '{c.Id}' answers early on the device, but '{split.Path}' holds no {ExitManifest.FileName} " +
                            "(write the folders with `cleave split MODEL --plan PLAN -o DIR`, which copies the planned exit)", Path.Combine(split.Path, ExitManifest.FileName));
                    exits[c.Split!] = exit;
                }
                if (c.ExitSha256 is { Length: > 0 } sha && !string.Equals(sha, exit.Manifest.ExitSha256, StringComparison.OrdinalIgnoreCase))
                    throw new InvalidDataException($"the exit in '{splits[c.Split!].Path}' is not the one the plan's configuration '{c.Id}' was planned with");
            }
            return exits;
        }
        catch
        {
            foreach (var e in exits.Values) e.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Connects to every target the client may use and runs each of its configurations once on <paramref name="image"/>
    /// (sessions, kernels, JIT), without telling the selector: measured requests then see steady-state costs.
    /// </summary>
    public async Task WarmUpAsync(RgbImage image, CancellationToken cancellationToken = default)
    {
        var saved = Link;
        Link = LinkProfile.Unlimited;
        try
        {
            foreach (var c in Selector.Configurations) await RunAsync(-1, c, image, cancellationToken).ConfigureAwait(false);
        }
        finally { Link = saved; }
    }

    /// <summary>Classifies one decoded image with the current configuration (or an exploring one) and adapts.</summary>
    public async Task<PlanRequestResult> InferAsync(RgbImage image, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        int index = _requests++;
        if (_options.Adaptive && _options.ProbeEvery > 0 && index % _options.ProbeEvery == 0) await ProbeAsync(cancellationToken).ConfigureAwait(false);

        var configuration = Selector.Current;
        bool explore = false;
        if (_options.Adaptive && configuration.Kind == ConfigurationKind.Local && _options.ExploreEvery > 0 && ++_sinceExplore >= _options.ExploreEvery)
        {
            var network = Selector.Configurations.Where(c => c.UsesNetwork).OrderBy(Selector.Predict).FirstOrDefault();
            if (network is not null) { configuration = network; explore = true; }
            _sinceExplore = 0;
        }

        var result = await RunAsync(index, configuration, image, cancellationToken).ConfigureAwait(false);
        result = result with { Explored = explore };
        if (_options.Adaptive)
            Selector.Observe(result.Bytes > 0 ? result.Bytes + LatencyModel.RequestOverheadBytes : 0, result.NetworkMs);
        return result;
    }

    private async Task<PlanRequestResult> RunAsync(int index, Configuration c, RgbImage image, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        switch (c.Kind)
        {
            case ConfigurationKind.Local:
            {
                var x = ImagePreprocessor.Process(image, _spec);
                long[] shape = _spec.Layout == "NCHW" ? [1, _spec.Channels, _spec.Height, _spec.Width] : [1, _spec.Height, _spec.Width, _spec.Channels];
                var scores = (float[])_full!.Run(new Dictionary<string, HostTensor> { [_fullInput] = new(OnnxElementType.Float, shape, x) }, [_full.OutputNames[0]])[_full.OutputNames[0]].Data;
                double deviceMs = await EmulateDeviceAsync(Stopwatch.GetElapsedTime(start).TotalMilliseconds, c.DeviceMs, cancellationToken).ConfigureAwait(false);
                return new PlanRequestResult(index, c.Id, ImageNetSample.TopK(scores, 1)[0], Stopwatch.GetElapsedTime(start).TotalMilliseconds, deviceMs, 0, 0, 0, 0, false);
            }
            case ConfigurationKind.Offload:
            {
                var baseline = ImageBaseline.Parse(c.Codec!);
                var resized = ImageBaseline.ResizeForModel(image, _spec);
                double deviceMs = await EmulateDeviceAsync(Stopwatch.GetElapsedTime(start).TotalMilliseconds, c.DeviceMs, cancellationToken).ConfigureAwait(false);
                long t = Stopwatch.GetTimestamp();
                byte[] file = baseline.Encode(resized);
                double encodeMs = await EmulateDeviceAsync(Stopwatch.GetElapsedTime(t).TotalMilliseconds, c.EncodeMs, cancellationToken).ConfigureAwait(false);
                var client = await ConnectionAsync("full", c, cancellationToken).ConfigureAwait(false);
                var answer = await client.InferAsync(file, cancellationToken: cancellationToken).ConfigureAwait(false);
                return Finish(index, c, start, deviceMs, encodeMs, answer);
            }
            default:
            {
                var head = Head(c.Split!);
                var codec = Codec(c.Codec!);
                var (values, shape) = head.Run(image);
                var exit = c.ExitThreshold is null ? null : _exits[c.Split!].Decide(values, [.. Enumerable.Range(0, shape.Rank).Select(i => (long)shape[i])]);
                double deviceMs = await EmulateDeviceAsync(Stopwatch.GetElapsedTime(start).TotalMilliseconds, c.DeviceMs + c.ExitMs, cancellationToken).ConfigureAwait(false);
                // The exit decides before encoding: an answered request costs the device its head and exit only.
                if (exit is not null && exit.Confidence >= c.ExitThreshold)
                    return new PlanRequestResult(index, c.Id, exit.Top1, Stopwatch.GetElapsedTime(start).TotalMilliseconds, deviceMs, 0, 0, 0, 0, false) { Exited = true };
                long t = Stopwatch.GetTimestamp();
                byte[] frame = codec.Encode(values, shape);
                double encodeMs = await EmulateDeviceAsync(Stopwatch.GetElapsedTime(t).TotalMilliseconds, c.EncodeMs, cancellationToken).ConfigureAwait(false);
                var client = await ConnectionAsync(c.Split!, c, cancellationToken).ConfigureAwait(false);
                var answer = await client.InferAsync(frame, cancellationToken: cancellationToken).ConfigureAwait(false);
                return Finish(index, c, start, deviceMs, encodeMs, answer);
            }
        }
    }

    private static PlanRequestResult Finish(int index, Configuration c, long start, double deviceMs, double encodeMs, SplitResult answer)
    {
        double serverMs = answer.Timing.QueueMs + answer.Timing.DecodeMs + answer.Timing.TailMs;
        return new PlanRequestResult(index, c.Id, answer.Top1, Stopwatch.GetElapsedTime(start).TotalMilliseconds, deviceMs, encodeMs,
            Math.Max(0, answer.TotalMs - serverMs), serverMs, answer.PayloadBytes, false);
    }

    /// <summary>
    /// Pads a device step to what the emulated device takes: the measured time / <see cref="PlanClientOptions.EmulatedDeviceSpeed"/>,
    /// or with <see cref="PlanClientOptions.PlannedDeviceTimes"/> the plan's time for the step (a dedicated device
    /// runs at a steady speed, which a shared development machine does not). Never shorter than the work itself took.
    /// Returns the emulated duration.
    /// </summary>
    private async Task<double> EmulateDeviceAsync(double measuredMs, double plannedMs, CancellationToken cancellationToken)
    {
        double target = _options.PlannedDeviceTimes ? Math.Max(measuredMs, plannedMs) : measuredMs / Math.Min(1, _options.EmulatedDeviceSpeed);
        double extra = target - measuredMs;
        if (extra <= 0) return measuredMs;
        long until = Stopwatch.GetTimestamp() + (long)(extra * Stopwatch.Frequency / 1000);
        // Sleep most of it, then yield-spin the last stretch: timer sleeps overshoot by about a millisecond.
        if (extra > 2) await Task.Delay(TimeSpan.FromMilliseconds(extra - 1.5), cancellationToken).ConfigureAwait(false);
        while (Stopwatch.GetTimestamp() < until) Thread.Yield();
        return target;
    }

    /// <summary>One Ping round trip (answered by the server at once, counted as no request): an RTT sample.</summary>
    private async Task ProbeAsync(CancellationToken cancellationToken)
    {
        var target = Selector.Configurations.FirstOrDefault(c => c.UsesNetwork);
        if (target is null) return;
        var client = await ConnectionAsync(target.Kind == ConfigurationKind.Offload ? "full" : target.Split!, target, cancellationToken).ConfigureAwait(false);
        Selector.Estimator.ObserveRtt(await client.PingAsync(cancellationToken).ConfigureAwait(false));
        _probes++;
        Selector.Reconsider();
    }

    private SplitHead Head(string tensor)
    {
        if (!_heads.TryGetValue(tensor, out var head)) _heads[tensor] = head = SplitHead.Load(_splits[tensor], _options.Threads);
        return head;
    }

    private FeatureCodec Codec(string spec)
    {
        if (!_codecs.TryGetValue(spec, out var codec)) _codecs[spec] = codec = FeatureCodecs.Create(spec);
        return codec;
    }

    private async Task<SplitClient> ConnectionAsync(string key, Configuration c, CancellationToken cancellationToken)
    {
        if (_connections.TryGetValue(key, out var client)) return client;
        var options = c.Kind == ConfigurationKind.Offload
            ? new SplitClientOptions { Server = _options.Server, Mode = ServingModes.Full, Link = _link, LinkSeed = _options.LinkSeed }
            : new SplitClientOptions
            {
                Server = _options.Server, ManifestHash = _splits[c.Split!].ManifestHash, Link = _link, LinkSeed = _options.LinkSeed,
                Codecs = [.. _options.Plan.AdaptiveConfigurations.Where(a => a.Split == c.Split).Select(a => a.Codec!).Append(c.Codec!).Distinct()],
            };
        client = await SplitClient.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        _connections[key] = client;
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _connections.Values) await c.DisposeAsync().ConfigureAwait(false);
        foreach (var h in _heads.Values) h.Dispose();
        foreach (var e in _exits.Values) e.Dispose();
        _full?.Dispose();
    }
}
