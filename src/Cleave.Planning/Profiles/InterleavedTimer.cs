using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Profiling;
using Cleave.Models.Splitting;

namespace Cleave.Planning.Profiles;

/// <summary>Median times of everything a configuration runs, taken in the same rounds.</summary>
public sealed record ProfileTimings(double PreprocessMs, double FullMs, double[] HeadMs, double[] TailMs, double[][] EncodeMs, double[][] DecodeMs);

/// <summary>
/// Times preprocessing, the whole model, every cut's head and tail and every codec's encode and decode in
/// interleaved rounds (one of each per round, medians over the rounds). On a shared machine the load drifts; timing
/// one thing after another would charge one cut a busy minute and the next a quiet one, and the planner compares them.
/// Rounds can also be interleaved with other work (<see cref="Round"/>), so that predictions made from the timings
/// and measurements of that work see the same load.
/// One ONNX Runtime thread by default: a device runs one request at a time, and on a busy machine multi-threaded
/// kernels wait on descheduled threads, which makes their times swing far more than the work.
/// </summary>
public sealed class InterleavedTimer : IDisposable
{
    private readonly PreprocessingSpec _spec;
    private readonly RgbImage _photo;
    private readonly IReadOnlyList<string> _cuts;
    private readonly IReadOnlyList<FeatureCodec> _codecs;
    private readonly string _inputName;
    private readonly long[] _inputShape;
    private readonly OrtModelRunner _full;
    private readonly List<OrtModelRunner> _heads = [];
    private readonly List<OrtModelRunner> _tails = [];
    private readonly List<double> _preprocess = [];
    private readonly List<double> _whole = [];
    private readonly List<double>[] _head;
    private readonly List<double>[] _tail;
    private readonly List<double>[][] _encode;
    private readonly List<double>[][] _decode;
    private bool _warm;

    public InterleavedTimer(OnnxModel model, SplitAnalysis analysis, PreprocessingSpec spec, RgbImage photo,
        IReadOnlyList<string> cuts, IReadOnlyList<FeatureCodec> codecs, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        _spec = spec;
        _photo = photo;
        _cuts = cuts;
        _codecs = codecs;
        _inputName = model.Graph.Inputs.Contains(spec.InputName) ? spec.InputName : model.Graph.Inputs[0];
        _inputShape = spec.Layout == "NCHW" ? [1, spec.Channels, spec.Height, spec.Width] : [1, spec.Height, spec.Width, spec.Channels];
        _full = new OrtModelRunner(model.ToBytes(), threads);
        try
        {
            foreach (string cut in cuts)
            {
                var split = ModelSplitter.Split(analysis, [cut]);
                if (split.Plan.TailGraphInputs.Any())
                    throw new NotSupportedException($"the tail at '{cut}' also needs {string.Join(", ", split.Plan.TailGraphInputs)}; only single-input tails are planned");
                _heads.Add(new OrtModelRunner(split.Head.ToBytes(), threads));
                _tails.Add(new OrtModelRunner(split.Tail.ToBytes(), threads));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        _head = [.. cuts.Select(_ => new List<double>())];
        _tail = [.. cuts.Select(_ => new List<double>())];
        _encode = [.. cuts.Select(_ => codecs.Select(_ => new List<double>()).ToArray())];
        _decode = [.. cuts.Select(_ => codecs.Select(_ => new List<double>()).ToArray())];
    }

    /// <summary>Rounds recorded so far (the first call only warms up).</summary>
    public int Rounds => _whole.Count;

    public static ProfileTimings Measure(OnnxModel model, SplitAnalysis analysis, PreprocessingSpec spec, RgbImage photo,
        IReadOnlyList<string> cuts, IReadOnlyList<FeatureCodec> codecs, int rounds, int threads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        using var timer = new InterleavedTimer(model, analysis, spec, photo, cuts, codecs, threads);
        while (timer.Rounds < rounds) timer.Round();
        return timer.Result();
    }

    /// <summary>Runs everything once, in order; the first call warms sessions, kernels and the JIT and is not recorded.</summary>
    public void Round()
    {
        bool record = _warm;
        _warm = true;
        long t = Stopwatch.GetTimestamp();
        var x = ImagePreprocessor.Process(_photo, _spec);
        Add(_preprocess, t, record);
        var inputs = new Dictionary<string, HostTensor> { [_inputName] = new(OnnxElementType.Float, _inputShape, x) };
        t = Stopwatch.GetTimestamp();
        _full.Run(inputs);
        Add(_whole, t, record);
        for (int k = 0; k < _cuts.Count; k++)
        {
            t = Stopwatch.GetTimestamp();
            var feature = _heads[k].Run(inputs, [_cuts[k]])[_cuts[k]];
            Add(_head[k], t, record);
            var values = (float[])feature.Data;
            var shape = new TensorShape([.. feature.Shape.Select(d => checked((int)d))]);
            for (int j = 0; j < _codecs.Count; j++)
            {
                t = Stopwatch.GetTimestamp();
                byte[] frame = _codecs[j].Encode(values, shape);
                Add(_encode[k][j], t, record);
                t = Stopwatch.GetTimestamp();
                FeatureFrame.Decode(frame, out _);
                Add(_decode[k][j], t, record);
            }
            t = Stopwatch.GetTimestamp();
            _tails[k].Run(new Dictionary<string, HostTensor> { [_cuts[k]] = feature });
            Add(_tail[k], t, record);
        }
    }

    /// <summary>
    /// Medians over the recorded rounds (what a profile holds: robust to a busy moment), or means (<paramref name="mean"/>:
    /// what predicts the mean latency of requests run in the same window, since a sum's mean is the sum of the means).
    /// </summary>
    public ProfileTimings Result(bool mean = false)
    {
        if (Rounds == 0) throw new InvalidOperationException("no timing round has been recorded yet (the first round only warms up)");
        Func<List<double>, double> stat = mean ? v => v.Average() : Median;
        return new ProfileTimings(stat(_preprocess), stat(_whole), [.. _head.Select(stat)], [.. _tail.Select(stat)],
            [.. _encode.Select(e => e.Select(stat).ToArray())], [.. _decode.Select(d => d.Select(stat).ToArray())]);
    }

    /// <summary>The profile with these timings in place of its own (accuracy and bytes kept; cuts and codecs must be the timer's, in order).</summary>
    public PlanningProfile Apply(PlanningProfile profile, bool mean = false)
    {
        var t = Result(mean);
        return profile with
        {
            FullMs = t.FullMs,
            PreprocessMs = t.PreprocessMs,
            Splits = [.. profile.Splits.Select((s, k) => s with
            {
                HeadMs = t.HeadMs[k], TailMs = t.TailMs[k],
                Codecs = [.. s.Codecs.Select((c, j) => c with { EncodeMs = t.EncodeMs[k][j], DecodeMs = t.DecodeMs[k][j] })],
            })],
        };
    }

    /// <summary>A timer for exactly the profile's cuts and codecs.</summary>
    public static InterleavedTimer ForProfile(PlanningProfile profile, string modelPath, RgbImage photo, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var model = OnnxModel.Load(modelPath);
        if (model.Sha256 != profile.ModelSha256) throw new InvalidDataException($"the profile was collected for another model than '{modelPath}'");
        var spec = PreprocessingSpec.FromMetadata(model.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value))
            ?? throw new InvalidOperationException($"'{modelPath}' records no preprocessing (import it with `cleave import`)");
        var codecs = profile.Splits.Count == 0 ? [] : profile.Splits[0].Codecs.Select(c => FeatureCodecs.Create(c.Codec)).ToList();
        return new InterleavedTimer(model, new SplitAnalysis(model), spec, photo, [.. profile.Splits.Select(s => s.Tensor)], codecs, threads);
    }

    private static void Add(List<double> times, long start, bool record)
    {
        if (record) times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    public void Dispose()
    {
        _full?.Dispose();
        foreach (var r in _heads) r.Dispose();
        foreach (var r in _tails) r.Dispose();
    }
}
