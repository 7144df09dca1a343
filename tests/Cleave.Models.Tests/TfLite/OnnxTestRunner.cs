using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace Cleave.Models.Tests.TfLite;

/// <summary>Runs an in-memory ONNX model on one float input and returns its first output.</summary>
internal static class OnnxTestRunner
{
    public static (float[] Values, long[] Shape) Run(ModelProto model, float[] input, long[] shape)
    {
        using var session = new InferenceSession(model.ToByteArray());
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var options = new RunOptions();
        using var outputs = session.Run(options, [session.InputNames[0]], [value], [session.OutputNames[0]]);
        var info = outputs[0].GetTensorTypeAndShape();
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), info.Shape);
    }

    /// <summary>NHWC -> NCHW copy of a [1,H,W,C] tensor.</summary>
    public static float[] ToNchw(float[] nhwc, int h, int w, int c)
    {
        var result = new float[nhwc.Length];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int k = 0; k < c; k++)
                    result[(k * h + y) * w + x] = nhwc[(y * w + x) * c + k];
        return result;
    }

    public static float[] Random(int count, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return values;
    }
}
