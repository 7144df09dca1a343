using Cleave.Models.Onnx;
using Cleave.Models.Tests;
using Cleave.Training.Onnx;
using Google.Protobuf;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Cleave.Training.Tests;

/// <summary>OnnxModule computes what ONNX Runtime computes, on real models and real images.</summary>
public sealed class OnnxModuleTests
{
    private const double Tolerance = 1e-4;

    public OnnxModuleTests() => TorchRuntime.Initialise();

    [AssetFact("vision/mobilenet_v2_1.0_224_quant.tflite", "imagenet-sample")]
    public void Imported_MobileNetV2_matches_ONNX_Runtime_on_16_images()
    {
        var (model, spec) = ParityModels.Import("mobilenet_v2_1.0_224_quant.tflite");
        var images = ParityModels.Images(spec, 16);
        long[] shape = [16, 3, spec.Height, spec.Width];
        string output = model.Graph.Outputs[0];
        var expected = ParityModels.RunOrt(model, model.Graph.Inputs[0], shape, images, output)[output];

        using var module = new OnnxModule(model);
        using var _ = no_grad();
        using var input = tensor(images).reshape(shape);
        using var actual = module.forward(input);
        Assert.True(ParityModels.MaxRelativeDifference(actual, expected) <= Tolerance);
    }

    [AssetFact("vision/deeplabv3_mnv2_pascal_quant.tflite", "imagenet-sample")]
    public void Imported_DeepLabV3_matches_ONNX_Runtime_on_16_images()
    {
        var (model, spec) = ParityModels.Import("deeplabv3_mnv2_pascal_quant.tflite");
        // The model ends in ArgMax: compare the class scores it reads (float) and the class map itself.
        var argMax = model.Graph.Nodes.Last(n => n.OpType == "ArgMax");
        string scores = argMax.Inputs[0], classes = model.Graph.Outputs[0];
        using var module = new OnnxModule(model);
        using var _ = no_grad();
        double worst = 0;
        for (int start = 0; start < 16; start += 4)
        {
            var images = ParityModels.Images(spec, 4, skip: start);
            long[] shape = [4, 3, spec.Height, spec.Width];
            var expected = ParityModels.RunOrt(model, model.Graph.Inputs[0], shape, images, scores);
            using var input = tensor(images).reshape(shape);
            var actual = module.Run(new Dictionary<string, Tensor> { [module.InputNames[0]] = input }, [scores, classes]);
            worst = Math.Max(worst, ParityModels.MaxRelativeDifference(actual[scores], expected[scores]));
            using var ourClasses = actual[classes];
            using var fromScores = actual[scores].argmax(argMax.Proto.Attribute.First(a => a.Name == "axis").I);
            Assert.Equal(fromScores.shape, ourClasses.shape);
            Assert.Equal(fromScores.to_type(ScalarType.Int64).data<long>().ToArray(), ourClasses.to_type(ScalarType.Int64).data<long>().ToArray());
            actual[scores].Dispose();
        }
        Assert.True(worst <= Tolerance, $"max relative difference {worst}");
    }

    [AssetFact("imagenet-sample")]
    public void ResNet_style_block_matches_ONNX_Runtime_on_16_images()
    {
        var model = ResNetStyleModel();
        var spec = Cleave.Models.Preprocessing.PreprocessingSpec.MinusOneToOne(64, 64, 0.875);
        var images = ParityModels.Images(spec, 16);
        long[] shape = [16, 3, 64, 64];
        var expected = ParityModels.RunOrt(model, "image", shape, images, "logits")["logits"];
        using var module = new OnnxModule(model);
        using var _ = no_grad();
        using var input = tensor(images).reshape(shape);
        using var actual = module.forward(input);
        Assert.True(ParityModels.MaxRelativeDifference(actual, expected) <= Tolerance);
    }

    [Fact]
    public void Unsupported_operators_are_listed_together_before_anything_runs()
    {
        var b = new OnnxGraphBuilder();
        b.Graph.Input.Add(OnnxGraphBuilder.ValueInfo("x", OnnxElementType.Float, [1, 4], null));
        string y = b.Emit("NonMaxSuppression", "nms", ["x"]);
        string z = b.Emit("Einsum", "e", [y], OnnxGraphBuilder.String("equation", "ij->ji"));
        string w = b.Emit("Einsum", "e2", [z], OnnxGraphBuilder.String("equation", "ij->ji"));
        string v = b.Emit("Relu", "r", [w]);
        b.Graph.Output.Add(new ValueInfoProto { Name = v });
        var model = Wrap(b);
        var error = Assert.Throws<UnsupportedOnnxOperatorsException>(() => new OnnxModule(model));
        Assert.Equal(["Einsum (2 nodes)", "NonMaxSuppression"], error.Problems);
    }

    [Fact]
    public void An_input_of_the_wrong_shape_is_refused_by_name()
    {
        using var module = new OnnxModule(ResNetStyleModel());
        using var wrong = zeros(2, 3, 32);
        var error = Assert.Throws<ArgumentException>(() => module.forward(wrong));
        Assert.Contains("'image'", error.Message);
        Assert.Contains("[2,3,32]", error.Message);
    }

    [Fact]
    public void Trainable_weights_receive_gradients_and_frozen_ones_do_not()
    {
        using var frozen = new OnnxModule(ResNetStyleModel());
        Assert.All(frozen.parameters(), p => Assert.False(p.requires_grad));
        using var trainable = new OnnxModule(ResNetStyleModel(), trainable: true);
        // conv weights, BN scale/bias (not its statistics), Gemm weight and bias.
        Assert.Equal(3 * 1 + 3 * 2 + 2, trainable.parameters().Count());
        using var x = randn(2, 3, 16, 16);
        using var loss = trainable.forward(x).square().sum();
        loss.backward();
        Assert.All(trainable.parameters(), p => Assert.True(p.grad is { } g && g.abs().sum().item<float>() > 0));
    }

    /// <summary>
    /// image[N,3,H,W] -> Conv 7x7/2 (no bias) -> BN -> Relu -> MaxPool 3x3/2 -> residual block (Conv-BN-Relu-Conv-BN,
    /// + shortcut, Relu) -> GlobalAveragePool -> Flatten -> Gemm(16 -> 10, transB) -> logits.
    /// </summary>
    internal static OnnxModel ResNetStyleModel(bool symbolicSize = true)
    {
        var random = new Random(7);
        float[] Values(int n, float scale) => [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale)];
        var b = new OnnxGraphBuilder();
        b.Graph.Input.Add(OnnxGraphBuilder.ValueInfo("image", OnnxElementType.Float, [1, 3, 64, 64], "N"));
        if (symbolicSize)
        {
            b.Graph.Input[0].Type.TensorType.Shape.Dim[2] = new TensorShapeProto.Types.Dimension { DimParam = "H" };
            b.Graph.Input[0].Type.TensorType.Shape.Dim[3] = new TensorShapeProto.Types.Dimension { DimParam = "W" };
        }
        string BatchNorm(string x, int channels)
        {
            string scale = b.AddFloats("bn_scale", [.. Values(channels, 0.5f).Select(v => v + 1)], channels);
            string bias = b.AddFloats("bn_bias", Values(channels, 0.2f), channels);
            string mean = b.AddFloats("bn_mean", Values(channels, 0.3f), channels);
            string variance = b.AddFloats("bn_var", [.. Values(channels, 0.4f).Select(v => v + 0.6f)], channels);
            return b.Emit("BatchNormalization", "bn", [x, scale, bias, mean, variance], OnnxGraphBuilder.Float("epsilon", 1e-5f));
        }
        string Conv(string x, int input, int output, int kernel, int stride) =>
            b.Emit("Conv", "conv", [x, b.AddFloats("conv_w", Values(output * input * kernel * kernel, 1f / kernel / MathF.Sqrt(input)), output, input, kernel, kernel)],
                OnnxGraphBuilder.Ints("kernel_shape", kernel, kernel), OnnxGraphBuilder.Ints("strides", stride, stride),
                OnnxGraphBuilder.Ints("pads", kernel / 2, kernel / 2, kernel / 2, kernel / 2));
        string stem = b.Emit("Relu", "stem_relu", [BatchNorm(Conv("image", 3, 16, 7, 2), 16)]);
        string pooled = b.Emit("MaxPool", "pool", [stem], OnnxGraphBuilder.Ints("kernel_shape", 3, 3), OnnxGraphBuilder.Ints("strides", 2, 2),
            OnnxGraphBuilder.Ints("pads", 1, 1, 1, 1));
        string branch = b.Emit("Relu", "block_relu", [BatchNorm(Conv(pooled, 16, 16, 3, 1), 16)]);
        branch = BatchNorm(Conv(branch, 16, 16, 3, 1), 16);
        string sum = b.Emit("Relu", "block_out", [b.Emit("Add", "residual", [pooled, branch])]);
        string flat = b.Emit("Flatten", "flat", [b.Emit("GlobalAveragePool", "gap", [sum])], OnnxGraphBuilder.Int("axis", 1));
        b.AddNode("Gemm", [flat, b.AddFloats("fc_w", Values(10 * 16, 0.25f), 10, 16), b.AddFloats("fc_b", Values(10, 0.1f), 10)], "logits",
            OnnxGraphBuilder.Int("transB", 1));
        b.Graph.Output.Add(OnnxGraphBuilder.ValueInfo("logits", OnnxElementType.Float, [1, 10], "N"));
        return Wrap(b);
    }

    private static OnnxModel Wrap(OnnxGraphBuilder b)
    {
        var proto = new ModelProto { IrVersion = 8, ProducerName = "cleave-tests", Graph = b.Graph };
        proto.Graph.Name = "test";
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 18 });
        return OnnxModel.FromProto(proto);
    }
}
