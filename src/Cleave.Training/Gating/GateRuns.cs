using Cleave.Codecs;
using Cleave.Models.Gating;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Profiling;
using Cleave.Training.Distillation;

namespace Cleave.Training.Gating;

/// <summary>
/// The calibration runs a gate learns from: every cached cut tensor coded with every configuration of the ladder,
/// decoded as the server decodes it, and run through the tail with ONNX Runtime; the bytes, agreement with the full
/// model (the cache's teacher) and correctness against the label are recorded per input and configuration.
/// </summary>
internal static class GateRuns
{
    public static GateOutcome[] Measure(CutFeatureCache cache, OnnxModel tail, string cutName, IReadOnlyList<FeatureCodec> ladder, Action<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(tail);
        ArgumentNullException.ThrowIfNull(ladder);
        if (ladder.Count < 2) throw new ArgumentException("a gate chooses among at least two configurations");
        using var runner = new OrtModelRunner(tail.ToBytes());
        string output = runner.OutputNames[0];
        long[] batchShape = [1, .. cache.SampleShape];
        var shape = new TensorShape(batchShape.Select(d => checked((int)d)).ToArray());
        int n = checked((int)cache.SampleElements);
        var outcomes = new GateOutcome[cache.Count];
        for (int i = 0; i < cache.Count; i++)
        {
            progress?.Invoke(i);
            var values = cache.Features.AsSpan(i * n, n);
            int reference = ImageNetSample.TopK(cache.Teacher.AsSpan(i * cache.Outputs, cache.Outputs), 1)[0];
            var bytes = new int[ladder.Count];
            var agrees = new bool[ladder.Count];
            var correct = new bool[ladder.Count];
            for (int k = 0; k < ladder.Count; k++)
            {
                byte[] frame = ladder[k].Encode(values, shape);
                bytes[k] = frame.Length;
                float[] restored = FeatureFrame.Decode(frame, out _);
                var scores = (float[])runner.Run(new Dictionary<string, HostTensor> { [cutName] = new(OnnxElementType.Float, batchShape, restored) }, [output])[output].Data;
                int top1 = ImageNetSample.TopK(scores, 1)[0];
                agrees[k] = top1 == reference;
                correct[k] = top1 == cache.Labels[i];
            }
            outcomes[i] = new GateOutcome(bytes, agrees, correct);
        }
        return outcomes;
    }
}
