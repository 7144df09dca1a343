using System.Diagnostics;
using Cleave.Codecs;

namespace Cleave.Evaluation;

/// <summary>One feature tensor through a codec and back, as the server would see it, with the frame's size and times.</summary>
public readonly record struct CodecRoundTrip(float[] Restored, int FrameBytes, double EncodeMs, double DecodeMs)
{
    public static CodecRoundTrip Run(FeatureCodec codec, float[] values, IReadOnlyList<long> shape)
    {
        ArgumentNullException.ThrowIfNull(codec);
        var dims = new int[shape.Count];
        for (int i = 0; i < dims.Length; i++) dims[i] = checked((int)shape[i]);
        long t0 = Stopwatch.GetTimestamp();
        byte[] frame = codec.Encode(values, new TensorShape(dims));
        double encodeMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        t0 = Stopwatch.GetTimestamp();
        var restored = FeatureFrame.Decode(frame, out _);
        double decodeMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        return new CodecRoundTrip(restored, frame.Length, encodeMs, decodeMs);
    }
}
