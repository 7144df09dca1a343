using Cleave.Models.Preprocessing;
using Google.Protobuf;
using Onnx;

namespace Cleave.Models.Importers.TfLite;

/// <summary>
/// Converts a .tflite model to an ONNX float model (opset 18): weights dequantized, activations float, images NCHW,
/// the input's preprocessing recorded in metadata_props (<see cref="PreprocessingSpec"/>).
/// </summary>
public static class TfLiteImporter
{
    public const string ImporterKey = "cleave.importer";
    public const string SourceKey = "cleave.source";

    /// <summary>Converts and writes atomically: on any failure no file (partial or temporary) is left at <paramref name="onnxPath"/>.</summary>
    public static TfLiteImportResult Import(string tflitePath, string onnxPath, TfLiteImportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(tflitePath);
        ArgumentException.ThrowIfNullOrEmpty(onnxPath);
        var model = TfLiteModel.Load(tflitePath);
        var onnx = Convert(model, Path.GetFileName(tflitePath), options, out var spec);

        string fullOutput = Path.GetFullPath(onnxPath);
        Cleave.Codecs.IO.AtomicFile.Write(fullOutput, onnx.WriteTo);

        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var op in model.Operators) counts[op.OperatorName] = counts.GetValueOrDefault(op.OperatorName) + 1;
        bool symbolic = onnx.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam == TfLiteToOnnxConverter.BatchParameter;
        return new TfLiteImportResult(fullOutput, new FileInfo(fullOutput).Length, model.Operators.Count, onnx.Graph.Node.Count,
            symbolic, onnx.Graph.Input[0].Name, [.. onnx.Graph.Output.Select(o => o.Name)], counts, spec);
    }

    /// <summary>Builds the ONNX model in memory. Throws <see cref="UnsupportedOperatorsException"/> listing every problem at once.</summary>
    public static ModelProto Convert(TfLiteModel model, string sourceName, TfLiteImportOptions? options, out PreprocessingSpec? preprocessing)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new TfLiteImportOptions();
        if (model.Inputs.Length == 0) throw new TfLiteFormatException("model has no inputs");

        var unsupported = TfLiteToOnnxConverter.FindUnsupported(model);
        if (unsupported.Count > 0) throw new UnsupportedOperatorsException(unsupported);

        bool symbolic = options.SymbolicBatch ?? TfLiteToOnnxConverter.CanUseSymbolicBatch(model);
        if (symbolic && !TfLiteToOnnxConverter.CanUseSymbolicBatch(model))
            throw new NotSupportedException("this model mixes the batch with other axes; import it with a fixed batch of 1");
        var graph = TfLiteToOnnxConverter.Convert(model, symbolic, options.InputName, out var problems);
        if (problems.Count > 0) throw new UnsupportedOperatorsException(problems);
        graph.Name = Path.GetFileNameWithoutExtension(sourceName);

        var onnx = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "cleave",
            ProducerVersion = typeof(TfLiteImporter).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = graph,
            DocString = $"Imported from {sourceName} (TFLite) by Cleave: weights dequantized to float32, NCHW activations.",
        };
        onnx.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = TfLiteToOnnxConverter.OpsetVersion });
        AddMetadata(onnx, ImporterKey, "tflite");
        AddMetadata(onnx, SourceKey, sourceName);

        preprocessing = DerivePreprocessing(model, graph.Input[0].Name, options);
        if (preprocessing is not null)
            foreach (var (key, value) in preprocessing.ToMetadata()) AddMetadata(onnx, key, value);
        return onnx;
    }

    /// <summary>
    /// The preprocessing the model expects, read from its input quantization: pixel values 0..255 are what the quantized
    /// model is fed, so (q - zero_point) * scale is the float the ONNX input must receive. Null for non-image inputs.
    /// </summary>
    public static PreprocessingSpec? DerivePreprocessing(TfLiteModel model, string inputName, TfLiteImportOptions options)
    {
        var input = model.Tensors[model.Inputs[0]];
        if (input.Shape is not [_, var height, var width, var channels] || channels is not (1 or 3)) return null;

        // A float input followed by QUANTIZE takes the range of that QUANTIZE's output.
        var quantized = input;
        if (!input.Quantization.IsPresent)
            foreach (var op in model.Operators)
                if (op.BuiltinCode == TfLiteBuiltinOperators.Quantize && op.Inputs[0] == input.Index)
                    quantized = model.Tensors[op.Outputs[0]];

        float mean, scale;
        if (quantized.Quantization.IsPresent && quantized.Type is TfLiteTensorType.UInt8 or TfLiteTensorType.Int8)
        {
            // Pixel p feeds the quantized value p + qmin, i.e. the real value (p + qmin - zero_point) * scale.
            int qmin = quantized.Type == TfLiteTensorType.Int8 ? -128 : 0;
            scale = quantized.Quantization.Scale[0];
            mean = quantized.Quantization.ZeroPoint.Length > 0 ? quantized.Quantization.ZeroPoint[0] - qmin : -qmin;
        }
        else if (input.Type == TfLiteTensorType.UInt8)
        {
            (mean, scale) = (0f, 1f); // raw pixels, converted inside the model
        }
        else
        {
            (mean, scale) = (127.5f, 1 / 127.5f); // a float model with no hint: the common [-1, 1] convention
        }

        bool classifier = model.Outputs.Length == 1 && model.Tensors[model.Outputs[0]].Shape.Length == 2;
        return new PreprocessingSpec
        {
            InputName = inputName,
            Width = width,
            Height = height,
            CropFraction = options.CropFraction ?? (classifier ? 0.875 : 1.0),
            Mean = channels == 3 ? [mean, mean, mean] : [mean],
            Scale = channels == 3 ? [scale, scale, scale] : [scale],
        };
    }

    private static void AddMetadata(ModelProto model, string key, string value) =>
        model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
}
