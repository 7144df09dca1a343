using Cleave.Models.Importers.TfLite;
using Op = Cleave.Models.Importers.TfLite.TfLiteBuiltinOperators;

namespace Cleave.Models.Tests.TfLite;

public sealed class TfLiteReaderTests
{
    private static byte[] TinyModel()
    {
        var b = new TinyTfLite();
        int input = b.FloatTensor("x", [1, 2, 2, 1]);
        int w = b.Tensor("w", TfLiteTensorType.Int8, [1, 1, 1, 1], [3], scale: [0.5f], zeroPoint: [1]);
        int y = b.FloatTensor("y", [1, 2, 2, 1]);
        b.Operator(Op.Conv2D, [input, w, -1], [y], (0, FbScalar.Byte(1)), (1, FbScalar.Int(1)), (2, FbScalar.Int(1)), (3, FbScalar.Byte(1)));
        return b.Build([input], [y]);
    }

    [Fact]
    public void ReadsTensorsOperatorsQuantizationAndConstants()
    {
        var model = TfLiteModel.Parse(TinyModel());
        Assert.Equal(3, model.Tensors.Count);
        Assert.Equal([0], model.Inputs);
        Assert.Equal([2], model.Outputs);
        var op = Assert.Single(model.Operators);
        Assert.Equal("CONV_2D", op.OperatorName);
        Assert.Equal([0, 1, -1], op.Inputs);
        var w = model.Tensors[1];
        Assert.True(w.IsConstant);
        Assert.Equal(TfLiteTensorType.Int8, w.Type);
        Assert.Equal([0.5f], w.Quantization.Scale);
        Assert.Equal([1L], w.Quantization.ZeroPoint);
        Assert.Equal([1f], TfLiteToOnnxConverter.Dequantize(w));
        Assert.Equal("x", model.Tensors[0].Name);
        Assert.False(model.Tensors[0].IsConstant);
    }

    [Fact]
    public void RejectsFilesThatAreNotTfLite()
    {
        Assert.Throws<TfLiteFormatException>(() => TfLiteModel.Parse([]));
        Assert.Throws<TfLiteFormatException>(() => TfLiteModel.Parse(new byte[7]));
        var wrongId = TinyModel();
        wrongId[4] = (byte)'X';
        Assert.Contains("TFL3", Assert.Throws<TfLiteFormatException>(() => TfLiteModel.Parse(wrongId)).Message);
    }

    [Fact]
    public void EveryTruncationIsATypedError()
    {
        var file = TinyModel();
        for (int length = 0; length < file.Length; length++)
        {
            var cut = file.AsSpan(0, length).ToArray();
            try { TfLiteModel.Parse(cut); }
            catch (TfLiteFormatException) { }
        }
    }

    [Fact]
    public void RandomCorruptionNeverEscapesAsAnUntypedException()
    {
        var file = TinyModel();
        var rng = new Random(11);
        for (int trial = 0; trial < 3000; trial++)
        {
            var bad = (byte[])file.Clone();
            for (int flips = rng.Next(1, 4); flips > 0; flips--) bad[rng.Next(8, bad.Length)] = (byte)rng.Next(256);
            try { TfLiteModel.Parse(bad); }
            catch (TfLiteFormatException) { }
        }
    }

    [Fact]
    public void CorruptedModelsConvertOrFailWithTypedErrors()
    {
        var file = TinyModel();
        var rng = new Random(12);
        int converted = 0;
        for (int trial = 0; trial < 2000; trial++)
        {
            var bad = (byte[])file.Clone();
            for (int f = rng.Next(1, 4); f > 0; f--) bad[rng.Next(8, bad.Length)] = (byte)rng.Next(256);
            try
            {
                TfLiteImporter.Convert(TfLiteModel.Parse(bad), "bad.tflite", null, out _);
                converted++;
            }
            catch (TfLiteFormatException) { }
            catch (NotSupportedException) { } // includes UnsupportedOperatorsException
        }
        Assert.InRange(converted, 1, 1999); // some flips hit padding or names, some break the model
    }

    [Fact]
    public void OperatorIndicesOutsideTheTensorListAreRejected()
    {
        var b = new TinyTfLite();
        int input = b.FloatTensor("x", [1, 4]);
        b.Operator(Op.Relu, [input], [7]);
        var e = Assert.Throws<TfLiteFormatException>(() => TfLiteModel.Parse(b.Build([input], [input])));
        Assert.Contains("tensor 7", e.Message);
    }

    [Fact]
    public void SanitizedNamesKeepTheMeaningfulPart()
    {
        Assert.Equal("MobilenetV2/expanded_conv_1/add", TfLiteToOnnxConverter.Sanitize("MobilenetV2/expanded_conv_1/add"));
        Assert.Equal("model/conv/Relu6", TfLiteToOnnxConverter.Sanitize("model/conv/Relu6;model/bn/FusedBatchNormV3;bias"));
        Assert.Equal("serving_default_input_0", TfLiteToOnnxConverter.Sanitize("serving_default_input:0"));
    }
}
