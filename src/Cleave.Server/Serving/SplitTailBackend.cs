using Cleave.Codecs;
using Cleave.Models.Splitting;
using Cleave.Runtime.Protocol;

namespace Cleave.Runtime.Serving;

/// <summary>
/// Split mode: payloads are Cleave feature frames of the cut tensor, decoded and run through <c>tail.onnx</c>.
/// Only single-tensor cuts without side or state inputs are served (image classifiers and the like). A split folder
/// with several task tails (<see cref="SplitManifest.Tasks"/>) loads each; all read the one decoded frame.
/// </summary>
public sealed class SplitTailBackend : InferenceBackend
{
    private readonly DecodeLimits _limits;

    private SplitTailBackend(SplitDirectory split, IReadOnlyList<(string, string, byte[])> tasks, long[] sampleShape, bool batchable, int threads)
        : base(tasks, split.Manifest.Cut[0].Name, sampleShape, batchable, threads)
    {
        Split = split;
        // Nothing bigger than the one tensor the tail takes is ever allocated for a frame.
        _limits = new DecodeLimits { MaxDecodedBytes = Math.Max(4L * SampleElements, 4) };
    }

    public SplitDirectory Split { get; }

    public override string Mode => ServingModes.Split;

    /// <summary>
    /// The largest frame the cut tensor can need: its values as raw float32, an eighth more for a codec that
    /// expands incompressible data, and the largest header (rank 8, 4 KiB of codec parameters, lengths, checksum).
    /// A message bigger than that cannot be a frame of this cut, so the server refuses it before buffering it.
    /// </summary>
    public override long MaxPayloadBytes => 4L * SampleElements + SampleElements / 2 + MaxFrameOverhead;

    private const int MaxFrameOverhead = 8 + 4 * 8 + 2 + 4096 + 4 + FeatureFrame.ChecksumSize;

    public override string ModelHash => Split.ManifestHash;

    public static SplitTailBackend Load(string splitDirectory, int threads = 0)
    {
        var split = SplitDirectory.Load(splitDirectory);
        var manifest = split.Manifest;
        if (manifest.Cut.Count != 1 || manifest.SideInputs.Count > 0 || manifest.TailStateInputs.Count > 0 || manifest.TailInputs.Count != 1)
            throw new NotSupportedException(
                $"'{splitDirectory}' cuts {manifest.Cut.Count} tensor(s) with {manifest.SideInputs.Count} side and {manifest.TailStateInputs.Count} state input(s); the server serves single-tensor cuts only");
        var (shape, batchable) = split.CutSampleShape();
        return new SplitTailBackend(split, [.. split.Tasks.Select(t => (t.Name, t.Kind, split.ReadTaskModel(t)))], shape, batchable, threads);
    }

    public override void Prepare(ReadOnlyMemory<byte> payload, Span<float> destination)
    {
        // One pass over the frame, straight into the caller's (pooled) buffer: Decode checks the header and checksum,
        // and the limits (the cut tensor's size) refuse a frame claiming a bigger tensor before anything is decoded.
        TensorShape shape;
        try { shape = FeatureFrame.Decode(payload.Span, destination[..SampleElements], _limits); }
        catch (FrameFormatException e) when (e.Error == FrameError.LimitExceeded)
        {
            throw new SplitInferenceException(ErrorCode.WrongShape, $"the frame's tensor is larger than the cut tensor [{string.Join(",", SampleShape)}]: {e.Message}", 0, e);
        }
        catch (FrameFormatException e) { throw Malformed(e); }
        if (!MatchesSample(shape))
            throw new SplitInferenceException(ErrorCode.WrongShape,
                $"the frame holds a tensor of shape {shape}, the tail takes [{string.Join(",", SampleShape)}] ('{Split.Manifest.Cut[0].Name}')");
    }

    /// <summary>The frame may carry the batch-1 shape or the same shape without the batch dimension.</summary>
    private bool MatchesSample(TensorShape shape)
    {
        var dims = shape.Dimensions;
        int skip = dims.Length == SampleShape.Count ? 0 : dims.Length == SampleShape.Count - 1 ? 1 : -1;
        if (skip < 0) return false;
        for (int i = 0; i < dims.Length; i++)
            if (dims[i] != SampleShape[i + skip]) return false;
        return true;
    }

    private static SplitInferenceException Malformed(FrameFormatException e) =>
        new(ErrorCode.MalformedFrame, $"bad frame ({e.Error}): {e.Message}", 0, e);
}
