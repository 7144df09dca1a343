using Cleave.Models.Importers.TfLite;
using Onnx;
using Op = Cleave.Models.Importers.TfLite.TfLiteBuiltinOperators;

namespace Cleave.Models.Tests.TfLite;

/// <summary>Small synthetic TFLite graphs converted and run in ONNX Runtime against direct NHWC computations.</summary>
public sealed class TfLiteConverterTests
{
    private static ModelProto Convert(byte[] file, TfLiteImportOptions? options = null) =>
        TfLiteImporter.Convert(TfLiteModel.Parse(file), "tiny.tflite", options, out _);

    [Fact]
    public void ConvWithPerChannelInt8WeightsStrideAndAsymmetricSamePaddingMatchesDirectComputation()
    {
        const int H = 6, W = 6, C = 2, O = 3, K = 3, S = 2;
        var b = new TinyTfLite();
        int input = b.FloatTensor("image", [1, H, W, C]);
        var rng = new Random(5);
        var q = new sbyte[O * K * K * C];
        for (int i = 0; i < q.Length; i++) q[i] = (sbyte)rng.Next(-127, 128);
        float[] scales = [0.01f, 0.02f, 0.005f];
        int weights = b.Tensor("w", TfLiteTensorType.Int8, [O, K, K, C], q.Select(v => (byte)v).ToArray(), scales, [0, 0, 0]);
        int[] biasQ = [100, -50, 7];
        int bias = b.Tensor("bias", TfLiteTensorType.Int32, [O], biasQ.SelectMany(BitConverter.GetBytes).ToArray(), scales, [0, 0, 0]);
        int output = b.FloatTensor("block/conv", [1, 3, 3, O]);
        b.Operator(Op.Conv2D, [input, weights, bias], [output],
            (0, FbScalar.Byte(0)), (1, FbScalar.Int(S)), (2, FbScalar.Int(S)), (3, FbScalar.Byte(0)));
        var model = Convert(b.Build([input], [output]));

        var x = OnnxTestRunner.Random(H * W * C, 1, 3f);
        var (y, shape) = OnnxTestRunner.Run(model, OnnxTestRunner.ToNchw(x, H, W, C), [1, C, H, W]);

        Assert.Equal([1L, 3, 3, O], shape); // graph outputs keep the TFLite layout
        // SAME with in 6, k 3, s 2: out 3, total padding 1, all of it at the end (TensorFlow's rule).
        for (int oy = 0; oy < 3; oy++)
            for (int ox = 0; ox < 3; ox++)
                for (int oc = 0; oc < O; oc++)
                {
                    double expected = biasQ[oc] * scales[oc];
                    for (int ky = 0; ky < K; ky++)
                        for (int kx = 0; kx < K; kx++)
                            for (int ic = 0; ic < C; ic++)
                            {
                                int iy = oy * S + ky, ix = ox * S + kx;
                                if (iy >= H || ix >= W) continue;
                                expected += x[(iy * W + ix) * C + ic] * q[((oc * K + ky) * K + kx) * C + ic] * scales[oc];
                            }
                    Assert.Equal(expected, y[(oy * 3 + ox) * O + oc], 4);
                }
    }

    [Fact]
    public void DepthwiseConvWithMultiplierDilationAndFusedRelu6MatchesDirectComputation()
    {
        const int H = 5, W = 5, C = 2, M = 2, K = 3, D = 2;
        var b = new TinyTfLite();
        int input = b.FloatTensor("x", [1, H, W, C]);
        var w = OnnxTestRunner.Random(K * K * C * M, 2, 2f);
        int weights = b.FloatTensor("dw", [1, K, K, C * M], w);
        int output = b.FloatTensor("dw_out", [1, H, W, C * M]);
        b.Operator(Op.DepthwiseConv2D, [input, weights, -1], [output],
            (0, FbScalar.Byte(0)), (1, FbScalar.Int(1)), (2, FbScalar.Int(1)), (3, FbScalar.Int(M)), (4, FbScalar.Byte(3)),
            (5, FbScalar.Int(D)), (6, FbScalar.Int(D)));
        var model = Convert(b.Build([input], [output]));

        var x = OnnxTestRunner.Random(H * W * C, 3, 3f);
        var (y, _) = OnnxTestRunner.Run(model, OnnxTestRunner.ToNchw(x, H, W, C), [1, C, H, W]);

        bool clipped = false;
        for (int oy = 0; oy < H; oy++)
            for (int ox = 0; ox < W; ox++)
                for (int c = 0; c < C; c++)
                    for (int m = 0; m < M; m++)
                    {
                        double sum = 0;
                        for (int ky = 0; ky < K; ky++)
                            for (int kx = 0; kx < K; kx++)
                            {
                                int iy = oy + ky * D - 2, ix = ox + kx * D - 2; // effective kernel 5: 2 on each side
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                sum += x[(iy * W + ix) * C + c] * w[(ky * K + kx) * C * M + c * M + m];
                            }
                        clipped |= sum > 6 || sum < 0;
                        Assert.Equal(Math.Clamp(sum, 0, 6), y[(oy * W + ox) * C * M + c * M + m], 4);
                    }
        Assert.True(clipped, "the test data should exercise the ReLU6 clip");
    }

    [Fact]
    public void MeanDenseSoftmaxHeadMatchesDirectComputationWithSymbolicBatch()
    {
        var b = new TinyTfLite();
        int input = b.FloatTensor("features", [1, 4, 4, 3]);
        int axes = b.IntTensor("axes", 1, 2);
        int pooled = b.FloatTensor("pooled", [1, 3]);
        var fcWeights = OnnxTestRunner.Random(2 * 3, 4);
        int weights = b.FloatTensor("fc_w", [2, 3], fcWeights);
        int logits = b.FloatTensor("logits", [1, 2]);
        int probs = b.FloatTensor("probs", [1, 2]);
        b.Operator(Op.Mean, [input, axes], [pooled], (0, FbScalar.Byte(0)));
        b.Operator(Op.FullyConnected, [pooled, weights, -1], [logits]);
        b.Operator(Op.Softmax, [logits], [probs], (0, FbScalar.Float(1f)));
        var model = Convert(b.Build([input], [probs]));

        Assert.Equal("N", model.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(3, model.Graph.Input[0].Type.TensorType.Shape.Dim[1].DimValue); // NCHW input
        var x = OnnxTestRunner.Random(2 * 48, 6);
        var (y, shape) = OnnxTestRunner.Run(model, [.. OnnxTestRunner.ToNchw(x[..48], 4, 4, 3), .. OnnxTestRunner.ToNchw(x[48..], 4, 4, 3)], [2, 3, 4, 4]);

        Assert.Equal([2L, 2], shape);
        for (int n = 0; n < 2; n++)
        {
            var mean = new double[3];
            for (int i = 0; i < 16; i++) for (int c = 0; c < 3; c++) mean[c] += x[n * 48 + i * 3 + c] / 16.0;
            var z = new double[2];
            for (int u = 0; u < 2; u++) for (int c = 0; c < 3; c++) z[u] += mean[c] * fcWeights[u * 3 + c];
            double p0 = 1 / (1 + Math.Exp(z[1] - z[0]));
            Assert.Equal(p0, y[n * 2], 5);
            Assert.Equal(1 - p0, y[n * 2 + 1], 5);
        }
    }

    [Fact]
    public void ConcatenationPadAndBroadcastAddTranslateNhwcAxes()
    {
        var b = new TinyTfLite();
        int input = b.FloatTensor("x", [1, 2, 2, 2]);
        int channelBias = b.FloatTensor("bias", [2], [10f, 20f]);
        int added = b.FloatTensor("added", [1, 2, 2, 2]);
        int joined = b.FloatTensor("joined", [1, 2, 2, 4]);
        int paddings = b.IntTensor("paddings", 0, 0, 1, 0, 0, 1, 0, 0);
        int padded = b.FloatTensor("padded", [1, 3, 3, 4]);
        b.Operator(Op.Add, [input, channelBias], [added], (0, FbScalar.Byte(0)));
        b.Operator(Op.Concatenation, [input, added], [joined], (0, FbScalar.Int(-1)), (1, FbScalar.Byte(0)));
        b.Operator(Op.Pad, [joined, paddings], [padded]);
        var model = Convert(b.Build([input], [padded]));

        var x = Enumerable.Range(0, 8).Select(i => (float)i).ToArray();
        var (y, shape) = OnnxTestRunner.Run(model, OnnxTestRunner.ToNchw(x, 2, 2, 2), [1, 2, 2, 2]);

        Assert.Equal([1L, 3, 3, 4], shape);
        for (int py = 0; py < 3; py++)
            for (int px = 0; px < 3; px++)
                for (int c = 0; c < 4; c++)
                {
                    int iy = py - 1, ix = px; // one row of padding on top, one column on the right
                    float expected = iy < 0 || ix > 1 ? 0f
                        : c < 2 ? x[(iy * 2 + ix) * 2 + c] : x[(iy * 2 + ix) * 2 + c - 2] + (c == 2 ? 10f : 20f);
                    Assert.Equal(expected, y[(py * 3 + px) * 4 + c]);
                }
    }

    [Fact]
    public void QuantizedActivationsBecomeFloatAndKeepTheirNames()
    {
        var b = new TinyTfLite();
        int input = b.Tensor("in", TfLiteTensorType.UInt8, [1, 2, 2, 1], scale: [0.5f], zeroPoint: [10]);
        int dq = b.FloatTensor("dq", [1, 2, 2, 1]);
        int act = b.FloatTensor("stage/relu", [1, 2, 2, 1]);
        int outQ = b.Tensor("out", TfLiteTensorType.UInt8, [1, 2, 2, 1], scale: [0.1f], zeroPoint: [0]);
        b.Operator(Op.Dequantize, [input], [dq]);
        b.Operator(Op.Relu, [dq], [act]);
        b.Operator(Op.Quantize, [act], [outQ]);
        var model = Convert(b.Build([input], [outQ]));

        Assert.Contains(model.Graph.Node, n => n.Output.Contains("stage/relu"));
        Assert.Equal("out", model.Graph.Output[0].Name);
        var (y, _) = OnnxTestRunner.Run(model, [-1f, 2f, -3f, 4f], [1, 1, 2, 2]);
        Assert.Equal([0f, 2f, 0f, 4f], y);
    }

    [Fact]
    public void ActivationsKeepTheirNamesWhenAWeightHasTheSameName()
    {
        // TFLite often names a folded bias exactly like the convolution's output (…/project/add_fold).
        var b = new TinyTfLite();
        int input = b.FloatTensor("x", [1, 2, 2, 1]);
        int w = b.FloatTensor("w", [1, 1, 1, 1], [2f]);
        int bias = b.FloatTensor("block/add_fold", [1], [1f]);
        int conv = b.FloatTensor("block/add_fold", [1, 2, 2, 1]);
        int output = b.FloatTensor("y", [1, 2, 2, 1]);
        b.Operator(Op.Conv2D, [input, w, bias], [conv], (0, FbScalar.Byte(1)), (1, FbScalar.Int(1)), (2, FbScalar.Int(1)));
        b.Operator(Op.Relu, [conv], [output]);
        var model = Convert(b.Build([input], [output]));

        Assert.Contains(model.Graph.Node, n => n.OpType == "Conv" && n.Output[0] == "block/add_fold");
        Assert.Contains(model.Graph.Initializer, i => i.Name == "block/add_fold_1");
        var (y, _) = OnnxTestRunner.Run(model, [1f, -1f, 0f, 2f], [1, 1, 2, 2]);
        Assert.Equal([3f, 0f, 1f, 5f], y);
    }

    [Fact]
    public void DequantizesPerChannelAlongTheQuantizedDimension()
    {
        var t = new TfLiteTensor(0, "w", TfLiteTensorType.UInt8, [2, 3], [], new TfLiteQuantization([0.5f, 2f, 1f], [1, 0, 3], 1),
            new byte[] { 1, 2, 3, 5, 0, 9 });
        Assert.Equal([0f, 4f, 0f, 2f, 0f, 6f], TfLiteToOnnxConverter.Dequantize(t));
    }

    [Fact]
    public void UnsupportedOperatorsAreListedTogetherAndNothingIsWritten()
    {
        var b = new TinyTfLite();
        int input = b.FloatTensor("x", [1, 4]);
        int a = b.FloatTensor("a", [1, 4]), c = b.FloatTensor("c", [1, 4]), d = b.FloatTensor("d", [1, 4]), e = b.FloatTensor("e", [1, 4]);
        b.Operator(Op.Relu, [input], [a]);
        b.Operator(66, [a], [c]); // SIN
        b.Operator(66, [c], [d]);
        b.Custom("MyFancyOp", [d], [e]);
        var file = b.Build([input], [e]);

        string dir = Directory.CreateTempSubdirectory("cleave-import-").FullName;
        try
        {
            string source = Path.Combine(dir, "m.tflite");
            File.WriteAllBytes(source, file);
            string target = Path.Combine(dir, "m.onnx");
            var error = Assert.Throws<UnsupportedOperatorsException>(() => TfLiteImporter.Import(source, target));
            Assert.Equal(["CUSTOM(MyFancyOp)", "SIN (x2)"], error.Operators);
            Assert.Contains("SIN", error.Message);
            Assert.Equal([source], Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ImportWritesTheFileAtomicallyWithPreprocessingMetadata()
    {
        var b = new TinyTfLite();
        int input = b.Tensor("image", TfLiteTensorType.UInt8, [1, 8, 6, 3], scale: [1 / 128f], zeroPoint: [128]);
        int axes = b.IntTensor("axes", 1, 2);
        int output = b.Tensor("pooled", TfLiteTensorType.UInt8, [1, 3], scale: [1 / 128f], zeroPoint: [128]);
        b.Operator(Op.Mean, [input, axes], [output], (0, FbScalar.Byte(0)));
        string dir = Directory.CreateTempSubdirectory("cleave-import-").FullName;
        try
        {
            string source = Path.Combine(dir, "m.tflite");
            File.WriteAllBytes(source, b.Build([input], [output]));
            var result = TfLiteImporter.Import(source, Path.Combine(dir, "m.onnx"));

            Assert.Equal(2, Directory.GetFiles(dir).Length);
            var onnx = ModelProto.Parser.ParseFrom(File.ReadAllBytes(result.OutputPath));
            var metadata = onnx.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
            var spec = Cleave.Models.Preprocessing.PreprocessingSpec.FromMetadata(metadata);
            Assert.NotNull(spec);
            Assert.Equal(result.Preprocessing, spec);
            Assert.Equal((6, 8, 0.875), (spec.Width, spec.Height, spec.CropFraction));
            Assert.Equal([128f, 128f, 128f], spec.Mean);
            Assert.Equal(1 / 128f, spec.Scale[0]);
            Assert.Equal("tflite", metadata[TfLiteImporter.ImporterKey]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
