using Cleave.Codecs;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Profiling;
using Cleave.Models.Splitting;
using Cleave.Runtime.Links;

namespace Cleave.Evaluation.Resilience;

/// <summary>
/// Top-1 of a split classifier when its frames cross a bit-error channel (docs/resilience.md). Per image the head runs
/// once; the plain frame (<c>CODEC</c>) and the resilient frame (<c>resilient:.../CODEC</c>, same codec setting) are
/// encoded once, then for every channel model a damaged copy of each is decoded by the path the server uses
/// (<see cref="FeatureFrame.Decode(ReadOnlySpan{byte}, out TensorShape, DecodeLimits?)"/>, which refuses a plain frame
/// whose CRC fails and conceals a resilient frame's damaged groups) and the tail runs on what came out. Plain frames
/// are scored twice: a refused frame counted as a wrong answer, and resent (fresh damage each time, up to
/// <see cref="MaxTransmissions"/>) until one arrives intact. Resilient frames are scored once per concealment mode on
/// the same damaged bytes. With an error-aware tail (a tail trained on damaged features, docs/resilience.md "Error-aware
/// decoding") the interpolated tensor is also answered by that tail: the same bytes, another decoder. Deterministic for a seed.
/// </summary>
public static class BitErrorStudy
{
    public const int MaxTransmissions = 100;

    public static BitErrorStudyResult Run(string modelPath, string cutTensor, string codecSpec, string resilientOptions,
        IReadOnlyList<BitErrorModel> channels, IReadOnlyList<LabelledImage> images, PreprocessingSpec? preprocessing = null,
        int seed = 17, Action<int, string>? progress = null, string? errorAwareTail = null)
    {
        ArgumentNullException.ThrowIfNull(channels);
        ArgumentNullException.ThrowIfNull(images);
        var plainCodec = FeatureCodecs.Create(codecSpec);
        if (plainCodec is ResilientCodec) throw new ArgumentException("give the plain codec; the study wraps it in the resilient layout itself");
        var resilientCodec = ResilientCodec.FromSpec($"{ResilientCodec.Name}:{resilientOptions}/{plainCodec.Spec}");
        var model = OnnxModel.Load(modelPath);
        var spec = preprocessing ?? PreprocessingSpec.FromMetadata(model.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value))
            ?? throw new InvalidOperationException($"'{modelPath}' records no preprocessing (import it with `cleave import`, or give one)");
        var split = ModelSplitter.Split(new SplitAnalysis(model), [cutTensor]);
        if (split.Plan.TailGraphInputs.Concat(split.Plan.AuxiliaryTensors).Any())
            throw new NotSupportedException($"the tail at '{cutTensor}' needs more than the cut tensor; only single-input tails are studied");

        using var full = new OrtModelRunner(model.ToBytes());
        using var head = new OrtModelRunner(split.Head.ToBytes());
        using var tail = new OrtModelRunner(split.Tail.ToBytes());
        using var aware = errorAwareTail is null ? null : new OrtModelRunner(File.ReadAllBytes(errorAwareTail));
        if (aware is not null && !aware.InputNames.SequenceEqual([cutTensor]))
            throw new ArgumentException($"the error-aware tail reads [{string.Join(", ", aware.InputNames)}], not the cut '{cutTensor}'");
        string input = full.InputNames.Contains(spec.InputName) ? spec.InputName : full.InputNames[0];
        long[] inputShape = spec.Layout == "NCHW" ? [1, spec.Channels, spec.Height, spec.Width] : [1, spec.Height, spec.Width, spec.Channels];
        var modes = new[] { ConcealmentMode.Zero, ConcealmentMode.Mean, ConcealmentMode.Interpolate };

        var rows = channels.Select(c => new BitErrorStudyRow.Tally(c, modes.Length)).ToList();
        var plainChannels = channels.Select((c, i) => new BitErrorChannel(c, seed + 2 * i)).ToList();
        var resilientChannels = channels.Select((c, i) => new BitErrorChannel(c, seed + 2 * i + 1)).ToList();
        int fullTop1 = 0, plainTop1 = 0, resilientTop1 = 0, awareTop1 = 0;
        long plainBytes = 0, resilientBytes = 0;
        for (int i = 0; i < images.Count; i++)
        {
            progress?.Invoke(i, Path.GetFileName(images[i].Path));
            var pixels = ImagePreprocessor.Process(RgbImage.Load(images[i].Path), spec);
            var reference = (float[])full.Run(new Dictionary<string, HostTensor> { [input] = new(OnnxElementType.Float, inputShape, pixels) }, [full.OutputNames[0]])[full.OutputNames[0]].Data;
            int label = ImageNetSample.OutputIndex(images[i].ClassIndex, reference.Length);
            if (ImageNetSample.TopK(reference, 1)[0] == label) fullTop1++;
            var feature = head.Run(new Dictionary<string, HostTensor> { [input] = new(OnnxElementType.Float, inputShape, pixels) }, [cutTensor])[cutTensor];
            var shape = new TensorShape(feature.Shape.Select(d => checked((int)d)).ToArray());
            var values = (float[])feature.Data;
            byte[] plain = plainCodec.Encode(values, shape);
            byte[] resilient = resilientCodec.Encode(values, shape);
            plainBytes += plain.Length;
            resilientBytes += resilient.Length;

            bool Correct(float[] restored) => CorrectBy(tail, restored);
            bool CorrectBy(OrtModelRunner runner, float[] restored) =>
                ImageNetSample.TopK((float[])runner.Run(new Dictionary<string, HostTensor> { [cutTensor] = new(OnnxElementType.Float, feature.Shape, restored) },
                    [runner.OutputNames[0]])[runner.OutputNames[0]].Data, 1)[0] == label;

            bool plainClean = Correct(FeatureFrame.Decode(plain, out _));
            bool resilientClean = Correct(FeatureFrame.Decode(resilient, out _));
            if (plainClean) plainTop1++;
            if (resilientClean) resilientTop1++;
            bool awareClean = aware is not null && CorrectBy(aware, FeatureFrame.Decode(resilient, out _));
            if (awareClean) awareTop1++;

            for (int c = 0; c < channels.Count; c++)
            {
                var row = rows[c];
                // Plain: the first transmission decides the "lost = wrong" column; resending until an intact copy
                // arrives decides the retransmission column (the tail's answer is then the clean frame's).
                int transmissions = 0;
                bool delivered = false, firstDelivered = false;
                while (!delivered && transmissions < MaxTransmissions)
                {
                    byte[] copy = (byte[])plain.Clone();
                    row.PlainFlips += plainChannels[c].Damage(copy);
                    transmissions++;
                    try { FeatureFrame.Decode(copy, out _); delivered = true; }
                    catch (FrameFormatException) { }
                    if (transmissions == 1) firstDelivered = delivered;
                }
                row.PlainTransmissions += transmissions;
                if (!firstDelivered) row.PlainLost++;
                if (firstDelivered && plainClean) row.PlainTop1LostWrong++;
                if (delivered && plainClean) row.PlainTop1Resent++;
                if (!delivered) row.PlainUndelivered++;

                byte[] damaged = (byte[])resilient.Clone();
                row.ResilientFlips += resilientChannels[c].Damage(damaged);
                for (int m = 0; m < modes.Length; m++)
                {
                    float[] restored;
                    ResilientDecodeResult result;
                    try { restored = ResilientFrame.Decode(damaged, out result, conceal: modes[m]); }
                    catch (FrameFormatException)
                    {
                        if (m == 0) row.ResilientLost++;
                        continue;
                    }
                    if (m == 0)
                    {
                        row.GroupsConcealed += result.ConcealedGroups.Count;
                        row.GroupsRepaired += result.RepairedGroups.Count;
                        row.Groups += result.Groups;
                        if (!result.IsIntact) row.FramesConcealed++;
                    }
                    // An intact (or repaired) frame decodes to the clean frame's tensor: its answer is already known.
                    if (result.IsIntact ? resilientClean : Correct(restored)) row.ResilientTop1[m]++;
                    if (aware is not null && modes[m] == ConcealmentMode.Interpolate && (result.IsIntact ? awareClean : CorrectBy(aware, restored))) row.ErrorAwareTop1++;
                }
            }
        }
        return new BitErrorStudyResult(Path.GetFileName(modelPath), cutTensor, plainCodec.Spec, resilientCodec.Spec, images.Count,
            fullTop1, plainTop1, resilientTop1, plainBytes, resilientBytes, modes, [.. rows.Select(r => r.ToRow(images.Count, aware is not null))])
        {
            ErrorAwareTail = errorAwareTail, ErrorAwareTop1 = aware is null ? null : awareTop1,
        };
    }
}
